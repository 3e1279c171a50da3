/* Tests of what atomic writes do with what a path is (hostmem/
 * atomic_file.c): a regular file is replaced whole; a symbolic link keeps
 * the link and writes its target; "-" is standard output; a device node,
 * a FIFO, a socket or a directory is refused and left as it was. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "atomic_file.h"
#include "testutil.h"

/* Writes `text` to `path` through an atomic file; returns the status. */
static kiln_status write_text(const char *path, const char *text)
{
    atomic_file af;
    kiln_status st = atomic_file_open(&af, path);
    if (st != KILN_OK)
        return st;
    fputs(text, af.fp);
    return atomic_file_commit(&af);
}

/* Reads up to len-1 bytes of a file into buf ("" when unreadable). */
static void read_text(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "rb");
    size_t n = 0;
    if (fp) {
        n = fread(buf, 1, len - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
}

/* Whether `dir` holds a kiln temporary file (".*.tmp.*"). */
static int has_temporary(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '\\.tmp\\.'", dir);
    return system(cmd) == 0;
}

/* Regular files and links. */
static void test_files_and_links(const char *dir)
{
    char file[4096], link_path[4096], target[4096], dangling[4096], buf[64];
    struct stat sb;

    snprintf(file, sizeof(file), "%s/plain.txt", dir);
    snprintf(target, sizeof(target), "%s/target.txt", dir);
    snprintf(link_path, sizeof(link_path), "%s/link.txt", dir);
    snprintf(dangling, sizeof(dangling), "%s/dangling.txt", dir);
    CHECK_OK(write_text(file, "one"));
    CHECK_OK(write_text(file, "two"));
    read_text(file, buf, sizeof(buf));
    CHECK(strcmp(buf, "two") == 0);
    /* a link to a regular file: the target gets the data, the link stays */
    CHECK_OK(write_text(target, "old"));
    CHECK(symlink(target, link_path) == 0);
    CHECK_OK(write_text(link_path, "new"));
    CHECK(lstat(link_path, &sb) == 0 && S_ISLNK(sb.st_mode));
    read_text(target, buf, sizeof(buf));
    CHECK(strcmp(buf, "new") == 0);
    /* a link to a file not made yet (absolute): the file is made */
    snprintf(buf, sizeof(buf), "later.txt");
    {
        char later[4096];
        snprintf(later, sizeof(later), "%s/later.txt", dir);
        CHECK(symlink(later, dangling) == 0);
        CHECK_OK(write_text(dangling, "made"));
        CHECK(lstat(dangling, &sb) == 0 && S_ISLNK(sb.st_mode));
        read_text(later, buf, sizeof(buf));
        CHECK(strcmp(buf, "made") == 0);
    }
    CHECK(!has_temporary(dir));
}

/* Device nodes, FIFOs, sockets, directories and links to them are
 * refused, untouched, without blocking. */
static void test_refused(const char *dir)
{
    char fifo[4096], sub[4096], devlink[4096], sock_path[4096], slash[4200];
    struct sockaddr_un addr;
    struct stat sb;
    int fd;

    CHECK_STATUS(write_text("/dev/null", "x"), KILN_E_IO);
    CHECK_MSG("character device");
    CHECK(stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode));
    snprintf(fifo, sizeof(fifo), "%s/pipe.png", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_STATUS(write_text(fifo, "x"), KILN_E_IO);
    CHECK_MSG("FIFO");
    CHECK(lstat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode));
    snprintf(sub, sizeof(sub), "%s/subdir.png", dir);
    CHECK(mkdir(sub, 0755) == 0);
    CHECK_STATUS(write_text(sub, "x"), KILN_E_IO);
    CHECK_MSG("directory");
    snprintf(slash, sizeof(slash), "%s/", sub);
    CHECK_STATUS(write_text(slash, "x"), KILN_E_INVAL);
    snprintf(devlink, sizeof(devlink), "%s/devlink.png", dir);
    CHECK(symlink("/dev/null", devlink) == 0);
    CHECK_STATUS(write_text(devlink, "x"), KILN_E_IO);
    CHECK_MSG("a link to a character device");
    CHECK(lstat(devlink, &sb) == 0 && S_ISLNK(sb.st_mode));
    snprintf(sock_path, sizeof(sock_path), "%s/s.png", dir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (fd >= 0 && strlen(sock_path) < sizeof(addr.sun_path)) {
        snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            CHECK_STATUS(write_text(sock_path, "x"), KILN_E_IO);
            CHECK_MSG("socket");
        }
    }
    if (fd >= 0)
        close(fd);
    CHECK(!has_temporary(dir));
}

/* "-" writes to standard output. */
static void test_stdout(const char *dir)
{
    char path[4096], buf[64];
    int saved = dup(STDOUT_FILENO), fd;

    snprintf(path, sizeof(path), "%s/stdout.txt", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(saved >= 0 && fd >= 0);
    if (saved < 0 || fd < 0)
        return;
    fflush(stdout);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    CHECK_OK(write_text("-", "to stdout"));
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    read_text(path, buf, sizeof(buf));
    CHECK(strcmp(buf, "to stdout") == 0);
}

int main(void)
{
    char dir[2048], cmd[4200];

    snprintf(dir, sizeof(dir), "%s/atomic_file", test_tmpdir("test_atomic_file"));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return 1;
    test_files_and_links(dir);
    test_refused(dir);
    test_stdout(dir);
    return test_summary("test_atomic_file");
}
