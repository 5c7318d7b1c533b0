/* textnum: number the tokens of a whitespace-tokenized text in one pass (plain C99, no Python).
 *
 * A text is split into lines on '\n' (a final '\n' does not start another line) and each line into
 * tokens separated by runs of ASCII whitespace (space, \t, \r, \v, \f), exactly like Python's
 * bytes.split().  Every distinct token (a "type") gets an integer id, in order of first appearance.
 *
 * Ownership: the caller owns a tn_vocab and a tn_output (zero them or call the init functions) and
 * releases both with tn_vocab_free / tn_output_free, also after an error; both free functions accept
 * partially built and already freed objects.  The library never keeps a pointer to the caller's text.
 */
#ifndef EEGIZA_TEXTNUM_H
#define EEGIZA_TEXTNUM_H

#include <stddef.h>
#include <stdint.h>

enum tn_status {
    TN_OK = 0,
    TN_NOMEM = 1,           /* an allocation failed or a size would overflow */
    TN_IDS_EXHAUSTED = 2,   /* a new word would need an id above INT32_MAX */
    TN_DUPLICATE = 3        /* tn_vocab_insert: the word is already in the vocabulary */
};

/* One type.  Its bytes are arena[offset : offset + length]. */
typedef struct {
    size_t offset;
    size_t length;
    int64_t count;          /* occurrences seen by tn_number (seeded words start at 0) */
    int32_t id;
} tn_word;

/* One slot of the open-addressing table: a 32-bit hash and the type index (-1 = empty). */
typedef struct {
    uint32_t hash;
    int32_t type;
} tn_slot;

/* The vocabulary: types in order of insertion plus a hash table over them. */
typedef struct {
    tn_slot *slots;         /* capacity entries, capacity a power of two */
    size_t capacity;
    tn_word *words;         /* n_types entries, in insertion order */
    size_t n_types, words_cap;
    unsigned char *arena;   /* the bytes of all types, back to back */
    size_t arena_len, arena_cap;
    int64_t next_id;        /* id the next new type receives */
} tn_vocab;

/* The numbered text: ids of all tokens, flat; offsets[k] = index in ids of line k's first token,
 * with offsets[n_lines] = n_ids (so n_offsets = n_lines + 1). */
typedef struct {
    int32_t *ids;
    size_t n_ids, ids_cap;
    int64_t *offsets;
    size_t n_offsets, offsets_cap;
} tn_output;

/* Empty vocabulary whose first new type gets first_id; room for about expected_types types. */
int tn_vocab_init(tn_vocab *v, int32_t first_id, size_t expected_types);
void tn_vocab_free(tn_vocab *v);

/* Add a known word with a given id (pre-seeding).  Later new types get ids above every seeded id.
 * The caller guarantees ids are unique; words must be unique (TN_DUPLICATE otherwise). */
int tn_vocab_insert(tn_vocab *v, const unsigned char *word, size_t length, int32_t id);

/* Empty output with room for about expected_tokens ids and expected_lines + 1 offsets. */
int tn_output_init(tn_output *out, size_t expected_tokens, size_t expected_lines);
void tn_output_free(tn_output *out);

/* Number data[0:n], appending to out (which must be freshly initialised) and extending v.
 * On TN_IDS_EXHAUSTED, *bad_line is the 1-based line of the offending token. */
int tn_number(tn_vocab *v, const unsigned char *data, size_t n, tn_output *out, size_t *bad_line);

#endif
