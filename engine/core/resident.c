/* The per-device resident cache (see resident.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "device.h"
#include "resident.h"
#include "status.h"

typedef struct resident_entry {
    char *key;
    void *object;
    resident_free_fn free_fn;
    size_t refs;
    uint64_t last_use;
    struct resident_entry *next;
} resident_entry;

struct resident_cache {
    resident_entry *head;
    uint64_t clock;
};

/* Creates an empty cache. */
kiln_status resident_cache_init(resident_cache **out)
{
    *out = kiln_calloc(1, sizeof(**out));
    return *out ? KILN_OK : kiln_fail(KILN_E_HOSTMEM, "out of host memory for the resident cache");
}

/* Frees one entry and its object. */
static void entry_free(resident_entry *e)
{
    e->free_fn(e->object);
    kiln_free(e->key);
    kiln_free(e);
}

/* Finds an entry by key. */
static resident_entry *entry_find(resident_cache *c, const char *key)
{
    for (resident_entry *e = c->head; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

/* Frees the least recently used entry nobody holds. */
int resident_evict_one(kiln_device *dev)
{
    resident_cache *c = dev->resident;
    resident_entry **victim = NULL;

    if (!c)
        return 0;
    for (resident_entry **p = &c->head; *p; p = &(*p)->next)
        if ((*p)->refs == 0 && (!victim || (*p)->last_use < (*victim)->last_use))
            victim = p;
    if (!victim)
        return 0;
    resident_entry *e = *victim;
    *victim = e->next;
    entry_free(e);
    return 1;
}

/* Returns the cached or newly built object of `key`. */
kiln_status resident_acquire(kiln_device *dev, const char *key, resident_build_fn build,
                             resident_free_fn free_fn, void *user, void **out)
{
    resident_cache *c = dev->resident;
    resident_entry *e;
    void *object = NULL;

    *out = NULL;
    if (!c || !key || strlen(key) >= RESIDENT_KEY_MAX || !build || !free_fn)
        return kiln_fail(KILN_E_INVAL, "resident_acquire: bad arguments");
    e = entry_find(c, key);
    if (!e) {
        e = kiln_calloc(1, sizeof(*e));
        if (!e || !(e->key = kiln_strdup(key))) {
            kiln_free(e);
            return kiln_fail(KILN_E_HOSTMEM, "out of host memory for a resident object");
        }
        kiln_status st = build(dev, user, &object);
        while (st == KILN_E_NOMEM && resident_evict_one(dev))
            st = build(dev, user, &object);
        if (st != KILN_OK) {
            kiln_free(e->key);
            kiln_free(e);
            return st;
        }
        e->object = object;
        e->free_fn = free_fn;
        e->next = c->head;
        c->head = e;
    }
    e->refs++;
    e->last_use = ++c->clock;
    *out = e->object;
    return KILN_OK;
}

/* Drops one reference. */
void resident_release(kiln_device *dev, const void *object)
{
    if (!object || !dev->resident)
        return;
    for (resident_entry *e = dev->resident->head; e; e = e->next) {
        if (e->object == object) {
            if (e->refs > 0)
                e->refs--;
            return;
        }
    }
}

/* Counts entries. */
size_t resident_count(const kiln_device *dev, size_t *held)
{
    size_t n = 0, h = 0;
    if (dev->resident) {
        for (const resident_entry *e = dev->resident->head; e; e = e->next) {
            n++;
            h += e->refs > 0;
        }
    }
    if (held)
        *held = h;
    return n;
}

/* Frees everything; a held object is a leak. */
kiln_status resident_cache_free(resident_cache *c)
{
    kiln_status st = KILN_OK;
    if (!c)
        return KILN_OK;
    while (c->head) {
        resident_entry *e = c->head;
        c->head = e->next;
        if (e->refs > 0 && st == KILN_OK)
            st = kiln_fail(KILN_E_LEAK, "resident object '%s' still held (%zu references) at "
                           "device close", e->key, e->refs);
        entry_free(e);
    }
    kiln_free(c);
    return st;
}
