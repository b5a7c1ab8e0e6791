#!/usr/bin/env bash
# Makes and rotates moat's session ticket key file (tls.ticket_keys): 80-byte
# records (name 16, AES key 32, HMAC key 32) from /dev/urandom, newest first.
# moat encrypts new tickets with the first record and resumes tickets made
# under any of them, and re-reads the file when it changes.
#   ticket-keys.sh new FILE            one fresh key (replaces FILE)
#   ticket-keys.sh rotate FILE [KEEP]  a fresh key first, then the KEEP-1
#                                      newest of FILE (KEEP: 3, at most 64)
# The file is written beside FILE (mode 600) and renamed over it, so moat
# never reads half a file. Copy the same file to every instance.
set -euo pipefail
usage() { echo "usage: $0 new FILE | rotate FILE [KEEP]" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 file=$2 keep=${3:-3}
case $keep in ''|*[!0-9]*) usage ;; esac
[ "$keep" -ge 1 ] && [ "$keep" -le 64 ] || { echo "$0: KEEP is 1 to 64" >&2; exit 2; }
dir=$(dirname -- "$file")
tmp=$(mktemp "$dir/.ticket-keys.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
chmod 600 "$tmp"
head -c 80 /dev/urandom > "$tmp"
case $cmd in
  new) ;;
  rotate)
    [ -f "$file" ] || { echo "$0: $file: no such file (use new)" >&2; exit 1; }
    size=$(stat -c %s -- "$file")
    if [ "$size" -eq 0 ] || [ $((size % 80)) -ne 0 ]; then
      echo "$file: size $size is not a multiple of 80 bytes; not a ticket key file" >&2
      exit 1
    fi
    head -c $(( (keep - 1) * 80 )) -- "$file" >> "$tmp"
    ;;
  *) usage ;;
esac
mv -f -- "$tmp" "$file"
trap - EXIT
echo "$file: $(( $(stat -c %s -- "$file") / 80 )) key(s), newest first"
