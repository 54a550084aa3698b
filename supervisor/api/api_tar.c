/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api_tar.c — tar archives, pure (api.h): a submit's
 * inputs read from a tar body (regular files and directories only, every
 * other member refused, the structure checked strictly: checksums, magic,
 * octal fields, sizes against what the archive holds), and the headers of
 * the tar corrald streams of a task's artifacts (ustar, a pax header when
 * a name is long, a size large or a file cut by a cap).
 *
 * Not here: whether a name is acceptable (api_files_check_name, applied by
 * the submit to every entry whatever its source), the streaming itself
 * (corrald's http_artifacts.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/api/api.h"

/* ustar header fields: offset, length */
#define F_NAME 0, 100
#define F_MODE 100, 8
#define F_UID 108, 8
#define F_GID 116, 8
#define F_SIZE 124, 12
#define F_MTIME 136, 12
#define F_CHKSUM 148, 8
#define F_TYPE 156
#define F_MAGIC 257
#define F_PREFIX 345, 155

#define TAR_MAX_SIZE (64ull << 30) /* a member's size, at most: max_input's own maximum */
#define PAX_MAX (64u << 10)        /* a pax header's data, bytes */

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* An octal field: digits, then NULs or spaces (leading spaces allowed).
 * false for anything else: base-256, stray bytes, overflow. */
static bool octal(const unsigned char *h, size_t off, size_t len, uint64_t *out)
{
	size_t i = off, end = off + len;
	uint64_t v = 0;
	bool digits = false;

	while (i < end && h[i] == ' ')
		i++;
	for (; i < end && h[i] >= '0' && h[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return false;
		v = v * 8 + (uint64_t)(h[i] - '0');
		digits = true;
	}
	for (; i < end; i++)
		if (h[i] != '\0' && h[i] != ' ')
			return false;
	*out = v;
	return digits;
}

/* The checksum as stored matches the block's (unsigned, or the signed
 * sum old tars wrote). */
static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	int64_t sum_signed = 0;
	uint64_t sum = 0;

	if (!octal(h, F_CHKSUM, &want))
		return false;
	for (size_t i = 0; i < API_TAR_BLOCK; i++) {
		unsigned char b = i >= 148 && i < 156 ? ' ' : h[i];

		sum += b;
		sum_signed += (signed char)b;
	}
	return want == sum || (int64_t)want == sum_signed;
}

/* A string field's length (up to its first NUL). */
static size_t field_len(const unsigned char *h, size_t off, size_t len)
{
	const unsigned char *nul = memchr(h + off, '\0', len);

	return nul ? (size_t)(nul - (h + off)) : len;
}

struct pax {
	char path[API_FILES_PATH_MAX + 2];
	bool has_path, has_size;
	uint64_t size;
};

/* pax records "LEN key=value\n": path and size kept, GNU sparse refused,
 * the rest (times, owners, charset, comments) ignored. */
static int pax_parse(const unsigned char *p, size_t n, struct pax *pax, char *why, size_t size)
{
	size_t off = 0;

	while (off < n) {
		size_t len = 0, i = off, klen;
		const unsigned char *rec, *eq, *val;

		while (i < n && p[i] >= '0' && p[i] <= '9' && len < n + 1)
			len = len * 10 + (size_t)(p[i++] - '0');
		if (i == off || i >= n || p[i] != ' ' || len <= i - off + 1 || len > n - off ||
		    p[off + len - 1] != '\n') {
			snprintf(why, size, "a pax extended header has a malformed record at byte %zu", off);
			return -EINVAL;
		}
		rec = p + i + 1;
		eq = memchr(rec, '=', (size_t)(p + off + len - 1 - rec));
		if (!eq) {
			snprintf(why, size, "a pax record at byte %zu has no '='", off);
			return -EINVAL;
		}
		klen = (size_t)(eq - rec);
		val = eq + 1;
		size_t vlen = (size_t)(p + off + len - 1 - val);

		if (klen == 4 && memcmp(rec, "path", 4) == 0) {
			if (vlen > API_FILES_PATH_MAX || memchr(val, '\0', vlen)) {
				snprintf(why, size, "a pax path of %zu bytes (at most %d, no NUL)", vlen,
					 API_FILES_PATH_MAX);
				return -EINVAL;
			}
			memcpy(pax->path, val, vlen);
			pax->path[vlen] = '\0';
			pax->has_path = true;
		} else if (klen == 4 && memcmp(rec, "size", 4) == 0) {
			uint64_t v = 0;

			if (vlen == 0 || vlen > 20) {
				snprintf(why, size, "a pax size that is not a number");
				return -EINVAL;
			}
			for (size_t k = 0; k < vlen; k++) {
				if (val[k] < '0' || val[k] > '9' || v > UINT64_MAX / 10 - 9) {
					snprintf(why, size, "a pax size that is not a number");
					return -EINVAL;
				}
				v = v * 10 + (uint64_t)(val[k] - '0');
			}
			pax->size = v;
			pax->has_size = true;
		} else if (klen >= 10 && memcmp(rec, "GNU.sparse", 10) == 0) {
			snprintf(why, size, "sparse files are not supported");
			return -EINVAL;
		}
		off += len;
	}
	return 0;
}

static const char *type_name(unsigned char t)
{
	switch (t) {
	case '1':
		return "a hard link";
	case '2':
		return "a symbolic link";
	case '3':
		return "a character device";
	case '4':
		return "a block device";
	case '6':
		return "a FIFO";
	case '7':
		return "a contiguous file";
	case 'L':
	case 'K':
		return "a GNU long name (use --format=pax)";
	case 'S':
		return "a GNU sparse file";
	case 'V':
		return "a GNU volume label";
	case 'M':
		return "a GNU multi-volume part";
	default:
		return "an unknown member type";
	}
}

int api_tar_parse(const unsigned char *a, size_t len, struct api_files_inputs *out, char *why, size_t size)
{
	struct pax pax = { 0 };
	bool pending_pax = false;
	size_t off = 0, members = 0;

	if (len % API_TAR_BLOCK) {
		snprintf(why, size,
			 "the archive is %zu bytes: not a whole number of %u-byte blocks (truncated?)", len,
			 API_TAR_BLOCK);
		return -EINVAL;
	}
	for (;;) {
		const unsigned char *h = a + off;
		char name[API_FILES_PATH_MAX + 2];
		uint64_t msize, mode;
		size_t nlen, plen;
		unsigned char type;
		const char *n;
		int r;

		if (off + API_TAR_BLOCK > len) {
			snprintf(why, size, "the archive ends without its end blocks (truncated)");
			return -EINVAL;
		}
		if (all_zero(h, API_TAR_BLOCK)) {
			if (pending_pax) {
				snprintf(why, size, "a pax extended header is not followed by a member");
				return -EINVAL;
			}
			if (!all_zero(a + off, len - off)) {
				snprintf(why, size, "data after the archive's end block at byte %zu", off);
				return -EINVAL;
			}
			return 0;
		}
		members++;
		if (!checksum_ok(h)) {
			snprintf(why, size, "member %zu: bad header checksum at byte %zu", members, off);
			return -EINVAL;
		}
		if (memcmp(h + F_MAGIC,
			   "ustar\0"
			   "00",
			   8) != 0 &&
		    memcmp(h + F_MAGIC, "ustar  \0", 8) != 0) {
			snprintf(why, size, "member %zu: not a ustar or pax header (magic)", members);
			return -EINVAL;
		}
		type = h[F_TYPE];
		if (!octal(h, F_SIZE, &msize) || msize > TAR_MAX_SIZE) {
			snprintf(why, size, "member %zu: size field is not an octal number up to 64 GiB",
				 members);
			return -EINVAL;
		}
		if (type == 'x' || type == 'g') {
			if (msize > PAX_MAX || msize > len - off - API_TAR_BLOCK) {
				snprintf(why, size,
					 "member %zu: a pax header of %" PRIu64
					 " bytes (truncated or over %u)",
					 members, msize, PAX_MAX);
				return -EINVAL;
			}
			if (type == 'x') {
				if (pending_pax) {
					snprintf(why, size, "member %zu: two pax headers in a row", members);
					return -EINVAL;
				}
				memset(&pax, 0, sizeof(pax));
				if ((r = pax_parse(h + API_TAR_BLOCK, msize, &pax, why, size)) < 0)
					return r;
				pending_pax = true;
			}
			off += API_TAR_BLOCK + msize + api_tar_padding(msize);
			continue;
		}
		if (type != '0' && type != '\0' && type != '5') {
			snprintf(why, size, "member %zu is %s: only regular files and directories are taken",
				 members, type_name(type));
			return -EINVAL;
		}
		if (pending_pax && pax.has_size)
			msize = pax.size;
		if (msize > TAR_MAX_SIZE || msize > len - off - API_TAR_BLOCK) {
			snprintf(why, size,
				 "member %zu claims %" PRIu64
				 " bytes, the archive holds %zu after its header "
				 "(truncated)",
				 members, msize, len - off - API_TAR_BLOCK);
			return -EINVAL;
		}
		if (!octal(h, F_MODE, &mode)) {
			snprintf(why, size, "member %zu: mode field is not an octal number", members);
			return -EINVAL;
		}
		if (pending_pax && pax.has_path) {
			snprintf(name, sizeof(name), "%s", pax.path);
		} else {
			nlen = field_len(h, F_NAME);
			/* POSIX ustar only: GNU's magic uses the prefix's bytes for times */
			plen = memcmp(h + F_MAGIC, "ustar\0", 6) == 0 ? field_len(h, F_PREFIX) : 0;
			snprintf(name, sizeof(name), "%.*s%s%.*s", (int)plen, (const char *)h + 345,
				 plen ? "/" : "", (int)nlen, (const char *)h);
		}
		pending_pax = false;
		n = name;
		nlen = strlen(n);
		if (type == '5' && nlen > 1 && n[nlen - 1] == '/')
			nlen--;
		if (nlen >= 2 && n[0] == '.' && n[1] == '/') {
			n += 2;
			nlen -= 2;
		}
		if (type == '5' && (nlen == 0 || (nlen == 1 && n[0] == '.'))) {
			/* the archive's root ("./"): /work itself */
		} else if (type == '5' && msize) {
			snprintf(why, size, "member %zu: a directory with %" PRIu64 " bytes of data", members,
				 msize);
			return -EINVAL;
		} else if ((r = api_files_inputs_add(out, n, nlen, (uint32_t)mode, type == '5',
						     h + API_TAR_BLOCK, msize)) < 0) {
			if (r == -E2BIG)
				snprintf(why, size, "the archive has more than %u entries", API_MAX_FILES);
			else
				snprintf(why, size, "member %zu: %s", members,
					 r == -EINVAL ? "a NUL in its name" : "out of memory");
			return r == -ENOMEM ? -ENOMEM : r;
		}
		off += API_TAR_BLOCK + msize + api_tar_padding(msize);
	}
}

size_t api_tar_padding(uint64_t size)
{
	return (size_t)((API_TAR_BLOCK - size % API_TAR_BLOCK) % API_TAR_BLOCK);
}

static void put_octal(unsigned char *h, size_t off, size_t len, uint64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)len - 1, v);
	memcpy(h + off, tmp, len - 1);
	h[off + len - 1] = '\0';
}

static void finish_header(unsigned char *h)
{
	uint64_t sum = 0;

	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < API_TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06" PRIo64, sum);
	h[155] = ' ';
}

/* ustar: name in name, or split at a '/' into prefix (<= 155) and name (<= 100). */
static bool ustar_split(const char *name, size_t *prefix_len)
{
	size_t n = strlen(name);

	if (n <= 100) {
		*prefix_len = 0;
		return true;
	}
	for (size_t i = n - 1; i > 0; i--) {
		if (name[i] != '/')
			continue;
		if (i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
			*prefix_len = i;
			return true;
		}
		if (i < n - 101)
			break;
	}
	return false;
}

/* One pax record "LEN key=value\n" (LEN counts itself) at p; its length. */
static size_t pax_record(char *p, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;

	while ((size_t)snprintf(NULL, 0, "%zu", len) + body != len)
		len++;
	return (size_t)sprintf(p, "%zu %s=%s\n", len, key, value);
}

static void ustar_block(unsigned char *h, const char *name, size_t name_len, const char *prefix,
			size_t prefix_len, uint32_t mode, uint64_t size, int64_t mtime, char type)
{
	memset(h, 0, API_TAR_BLOCK);
	memcpy(h, name, name_len < 100 ? name_len : 100);
	put_octal(h, F_MODE, mode & 07777);
	put_octal(h, F_UID, 0);
	put_octal(h, F_GID, 0);
	put_octal(h, F_SIZE, size);
	put_octal(h, F_MTIME, mtime > 0 ? (uint64_t)mtime : 0);
	h[F_TYPE] = (unsigned char)type;
	memcpy(h + F_MAGIC,
	       "ustar\0"
	       "00",
	       8);
	if (prefix_len)
		memcpy(h + 345, prefix, prefix_len);
	finish_header(h);
}

size_t api_tar_header(const char *name, uint32_t mode, uint64_t size, bool truncated, int64_t mtime,
		      unsigned char *buf)
{
	size_t prefix_len = 0, used = 0;
	bool fits = ustar_split(name, &prefix_len);
	bool big = size >= (1ull << 33); /* 11 octal digits */

	if (!fits || big || truncated) {
		char data[API_FILES_PATH_MAX + 256], num[32], pname[100];
		size_t dlen = 0;

		if (!fits)
			dlen += pax_record(data + dlen, "path", name);
		if (big) {
			snprintf(num, sizeof(num), "%" PRIu64, size);
			dlen += pax_record(data + dlen, "size", num);
		}
		if (truncated)
			dlen += pax_record(data + dlen, "CORRAL.truncated", "1");
		snprintf(pname, sizeof(pname), "PaxHeaders/%.80s",
			 strrchr(name, '/') ? strrchr(name, '/') + 1 : name);
		ustar_block(buf, pname, strlen(pname), NULL, 0, 0644, dlen, mtime, 'x');
		memset(buf + API_TAR_BLOCK, 0, dlen + api_tar_padding(dlen));
		memcpy(buf + API_TAR_BLOCK, data, dlen);
		used = API_TAR_BLOCK + dlen + api_tar_padding(dlen);
	}
	if (fits)
		ustar_block(buf + used, name + (prefix_len ? prefix_len + 1 : 0),
			    strlen(name) - (prefix_len ? prefix_len + 1 : 0), name, prefix_len, mode,
			    big ? 0 : size, mtime, '0');
	else /* the pax path rules; the ustar name is a cut of it */
		ustar_block(buf + used, name, 100, NULL, 0, mode, big ? 0 : size, mtime, '0');
	return used + API_TAR_BLOCK;
}
