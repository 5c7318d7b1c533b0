/* textnum: one pass over a tokenized text, numbering its tokens (see textnum.h).
 *
 * Tokens are hashed with 64-bit FNV-1a while they are scanned, then mixed with the MurmurHash3
 * finaliser and cut to 32 bits.  The table uses open addressing with linear probing over a
 * power-of-two number of slots, doubling when more than 5/8 of them are used; a slot keeps the
 * 32-bit hash (so growing never touches the words) and the type index.  Token bytes are copied
 * into one arena per vocabulary, so the text need not outlive the call.
 */
#include "textnum.h"

#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL
#define MIN_SLOTS 1024u
#define MAX_SLOTS ((size_t)1 << 32)   /* slot indices come from a 32-bit hash */

enum { TOKEN_BYTE = 0, BLANK = 1, NEWLINE = 2 };

/* Python's bytes.split() separators; '\n' also ends a line. */
static const unsigned char byte_class[256] = {
    [' '] = BLANK, ['\t'] = BLANK, ['\r'] = BLANK, ['\v'] = BLANK, ['\f'] = BLANK,
    ['\n'] = NEWLINE,
};

/* Buffer `buf` of *cap elements of `elem` bytes, grown (doubling) to hold at least `need`: the
 * possibly moved buffer, or NULL when out of memory (then `buf` is left as it was). */
static void *reserve(void *buf, size_t *cap, size_t need, size_t elem)
{
    size_t new_cap;
    void *p;
    if (need <= *cap && buf != NULL)
        return buf;
    new_cap = *cap ? *cap : 16;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2)
            return NULL;
        new_cap *= 2;
    }
    if (new_cap > SIZE_MAX / elem)
        return NULL;
    p = realloc(buf, new_cap * elem);
    if (p != NULL)
        *cap = new_cap;
    return p;
}

/* Give back unused capacity: the possibly moved buffer (if the shrink fails, the old one). */
static void *shrink(void *buf, size_t *cap, size_t used, size_t elem)
{
    size_t keep = used ? used : 1;
    void *p;
    if (keep >= *cap)
        return buf;
    p = realloc(buf, keep * elem);
    if (p == NULL)
        return buf;
    *cap = keep;
    return p;
}

static uint32_t finish_hash(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (uint32_t)h;
}

static uint32_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = FNV_OFFSET;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return finish_hash(h);
}

static size_t slots_for(size_t n_types)
{
    size_t cap = MIN_SLOTS;
    while (cap < MAX_SLOTS && n_types * 8 > cap * 5)
        cap *= 2;
    return cap;
}

static int alloc_slots(tn_slot **slots, size_t capacity)
{
    if (capacity > SIZE_MAX / sizeof(tn_slot))
        return TN_NOMEM;
    *slots = malloc(capacity * sizeof(tn_slot));
    if (*slots == NULL)
        return TN_NOMEM;
    memset(*slots, 0xff, capacity * sizeof(tn_slot));   /* type = -1 everywhere */
    return TN_OK;
}

/* Index of the type with these bytes, or -1; *slot is where the probe stopped. */
static int32_t find_type(const tn_vocab *v, const unsigned char *w, size_t len, uint32_t h,
                         size_t *slot)
{
    size_t mask = v->capacity - 1;
    size_t s = h & mask;
    for (;;) {
        const tn_slot *e = &v->slots[s];
        if (e->type < 0)
            break;
        if (e->hash == h) {
            const tn_word *word = &v->words[e->type];
            if (word->length == len && memcmp(v->arena + word->offset, w, len) == 0) {
                *slot = s;
                return e->type;
            }
        }
        s = (s + 1) & mask;
    }
    *slot = s;
    return -1;
}

static size_t free_slot(const tn_vocab *v, uint32_t h)
{
    size_t mask = v->capacity - 1;
    size_t s = h & mask;
    while (v->slots[s].type >= 0)
        s = (s + 1) & mask;
    return s;
}

static int grow_table(tn_vocab *v)
{
    size_t new_cap = v->capacity * 2, i;
    tn_slot *old = v->slots;
    int st;
    if (new_cap > MAX_SLOTS)
        return TN_NOMEM;
    if ((st = alloc_slots(&v->slots, new_cap)) != TN_OK) {
        v->slots = old;
        return st;
    }
    v->capacity = new_cap;
    for (i = 0; i < new_cap / 2; i++)
        if (old[i].type >= 0)
            v->slots[free_slot(v, old[i].hash)] = old[i];
    free(old);
    return TN_OK;
}

/* Append a type not yet in the table; *slot is the empty slot find_type stopped at. */
static int add_type(tn_vocab *v, const unsigned char *w, size_t len, uint32_t h, size_t slot,
                    int32_t id, int32_t *type)
{
    tn_word *word, *words;
    unsigned char *arena;
    int st;
    if (v->n_types >= INT32_MAX)
        return TN_IDS_EXHAUSTED;
    if ((v->n_types + 1) * 8 > v->capacity * 5) {
        if ((st = grow_table(v)) != TN_OK)
            return st;
        slot = free_slot(v, h);
    }
    if (len > SIZE_MAX - v->arena_len)
        return TN_NOMEM;
    if ((arena = reserve(v->arena, &v->arena_cap, v->arena_len + len, 1)) == NULL)
        return TN_NOMEM;
    v->arena = arena;
    if ((words = reserve(v->words, &v->words_cap, v->n_types + 1, sizeof(tn_word))) == NULL)
        return TN_NOMEM;
    v->words = words;
    if (len > 0)
        memcpy(v->arena + v->arena_len, w, len);
    word = &v->words[v->n_types];
    word->offset = v->arena_len;
    word->length = len;
    word->count = 0;
    word->id = id;
    v->arena_len += len;
    v->slots[slot].hash = h;
    v->slots[slot].type = (int32_t)v->n_types;
    *type = (int32_t)v->n_types++;
    return TN_OK;
}

int tn_vocab_init(tn_vocab *v, int32_t first_id, size_t expected_types)
{
    memset(v, 0, sizeof(*v));
    v->next_id = first_id;
    v->capacity = slots_for(expected_types);
    return alloc_slots(&v->slots, v->capacity);
}

void tn_vocab_free(tn_vocab *v)
{
    free(v->slots);
    free(v->words);
    free(v->arena);
    memset(v, 0, sizeof(*v));
}

int tn_vocab_insert(tn_vocab *v, const unsigned char *word, size_t length, int32_t id)
{
    uint32_t h = hash_bytes(word, length);
    size_t slot;
    int32_t type;
    int st;
    if (find_type(v, word, length, h, &slot) >= 0)
        return TN_DUPLICATE;
    if ((st = add_type(v, word, length, h, slot, id, &type)) != TN_OK)
        return st;
    if ((int64_t)id + 1 > v->next_id)
        v->next_id = (int64_t)id + 1;
    return TN_OK;
}

int tn_output_init(tn_output *out, size_t expected_tokens, size_t expected_lines)
{
    memset(out, 0, sizeof(*out));
    out->ids = reserve(NULL, &out->ids_cap, expected_tokens + 1, sizeof(int32_t));
    out->offsets = reserve(NULL, &out->offsets_cap, expected_lines + 2, sizeof(int64_t));
    if (out->ids == NULL || out->offsets == NULL) {
        tn_output_free(out);
        return TN_NOMEM;
    }
    return TN_OK;
}

void tn_output_free(tn_output *out)
{
    free(out->ids);
    free(out->offsets);
    memset(out, 0, sizeof(*out));
}

static int push_offset(tn_output *out)
{
    int64_t *offsets;
    if (out->n_offsets == out->offsets_cap) {
        offsets = reserve(out->offsets, &out->offsets_cap, out->n_offsets + 1, sizeof(int64_t));
        if (offsets == NULL)
            return TN_NOMEM;
        out->offsets = offsets;
    }
    out->offsets[out->n_offsets++] = (int64_t)out->n_ids;
    return TN_OK;
}

int tn_number(tn_vocab *v, const unsigned char *data, size_t n, tn_output *out, size_t *bad_line)
{
    size_t i = 0, start, slot;
    uint64_t h;
    uint32_t h32;
    int32_t type, *ids;
    unsigned char c;
    int st;

    if ((st = push_offset(out)) != TN_OK)
        return st;
    while (i < n) {
        c = data[i];
        if (byte_class[c] != TOKEN_BYTE) {
            if (byte_class[c] == NEWLINE && (st = push_offset(out)) != TN_OK)
                return st;
            i++;
            continue;
        }
        start = i;
        h = FNV_OFFSET;
        do {
            h = (h ^ c) * FNV_PRIME;
            if (++i == n)
                break;
            c = data[i];
        } while (byte_class[c] == TOKEN_BYTE);

        h32 = finish_hash(h);
        type = find_type(v, data + start, i - start, h32, &slot);
        if (type < 0) {
            if (v->next_id > INT32_MAX)
                st = TN_IDS_EXHAUSTED;
            else
                st = add_type(v, data + start, i - start, h32, slot, (int32_t)v->next_id, &type);
            if (st != TN_OK) {
                *bad_line = out->n_offsets;   /* offsets pushed so far = 1-based line number */
                return st;
            }
            v->next_id++;
        }
        v->words[type].count++;
        if (out->n_ids == out->ids_cap) {
            ids = reserve(out->ids, &out->ids_cap, out->n_ids + 1, sizeof(int32_t));
            if (ids == NULL)
                return TN_NOMEM;
            out->ids = ids;
        }
        out->ids[out->n_ids++] = v->words[type].id;
    }
    if (n > 0 && data[n - 1] != '\n' && (st = push_offset(out)) != TN_OK)
        return st;
    out->ids = shrink(out->ids, &out->ids_cap, out->n_ids, sizeof(int32_t));
    out->offsets = shrink(out->offsets, &out->offsets_cap, out->n_offsets, sizeof(int64_t));
    return TN_OK;
}
