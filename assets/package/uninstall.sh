#!/bin/sh
# Removes what install.sh installed (not your data: ~/.local/share/worktray and friends stay).
set -eu
if [ -z "${PREFIX:-}" ]; then
	if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX="$HOME/.local"; fi
fi
rm -f "$PREFIX/bin/worktray" "$PREFIX/bin/worktray-ui" "$PREFIX/share/applications/worktray.desktop" \
	"$PREFIX/share/icons/hicolor/256x256/apps/worktray.png" "$PREFIX/share/icons/hicolor/48x48/apps/worktray.png"
echo "worktray removed from $PREFIX"
