#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the conformance corpus (tests/cases/*.cases):
#   parse, compile   one file per cell, and one per script program
#   execute_cell, cell_time   one file per notebook case: its cells joined by a 0xFF byte
# (the separator the execute_cell target splits on). File names are content hashes, so
# running it again adds nothing twice. The corpus directories are not in git.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cases="$here/../tests/cases"
out="$here/corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/parse" "$out/compile" "$out/execute_cell" "$out/cell_time"

# Writes every cell to $tmp/cells/N and every notebook case to $tmp/cases/N, with the cells
# of a case separated by a line holding only the marker (replaced by 0xFF below).
marker='@@FUZZ-CELL-SEPARATOR@@'
mkdir -p "$tmp/cells" "$tmp/cases"
awk -v dir="$tmp" -v marker="$marker" '
function close_cell() {
    if (incell) { close(cellfile); incell = 0 }
}
function close_case() {
    close_cell()
    if (casefile != "") { close(casefile); casefile = "" }
}
/^===/ {
    close_case(); ncase++
    script = ($0 ~ /@script[ \t]*$/)
    casefile = script ? "" : dir "/cases/" ncase
    ncells_in_case = 0
    next
}
/^>>>/ {
    line = substr($0, 4); sub(/^ /, "", line)
    if (script && incell) { print line > cellfile; next }
    close_cell(); ncell++; incell = 1
    cellfile = dir "/cells/" ncell
    print line > cellfile
    if (casefile != "") {
        if (ncells_in_case++ > 0) print marker > casefile
        print line > casefile
    }
    next
}
/^\.\.\./ {
    if (!incell) next
    line = substr($0, 4); sub(/^ /, "", line)
    print line > cellfile
    if (casefile != "") print line > casefile
    next
}
{ close_cell() }
END { close_case() }
' "$cases"/*.cases

add() { # add FILE DIR: copy under its content hash, without the final newline
    f=$1
    d=$2
    printf '%s' "$(cat "$f")" > "$tmp/one"
    h=$(sha1sum "$tmp/one" | cut -c1-40)
    cp "$tmp/one" "$d/$h"
}
for f in "$tmp"/cells/*; do
    add "$f" "$out/parse"
    add "$f" "$out/compile"
done
for f in "$tmp"/cases/*; do
    # the marker line, with the newlines around it, becomes one 0xFF byte
    printf '%s' "$(cat "$f")" | awk -v marker="$marker" '
        BEGIN { ORS = "" }
        NR > 1 && prev != marker && $0 != marker { print "\n" }
        $0 == marker { printf "%c", 255; prev = $0; next }
        { print; prev = $0 }
    ' > "$tmp/case"
    h=$(sha1sum "$tmp/case" | cut -c1-40)
    cp "$tmp/case" "$out/execute_cell/$h"
    cp "$tmp/case" "$out/cell_time/$h"
done
for t in parse compile execute_cell cell_time; do
    echo "$t: $(ls "$out/$t" | wc -l) seeds"
done
