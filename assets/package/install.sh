#!/bin/sh
# Installs worktray from this archive: into ~/.local for the current user, or into /usr/local
# when run as root (or into PREFIX when set). Run it again to upgrade; uninstall.sh removes it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PREFIX:-}" ]; then
	if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX="$HOME/.local"; fi
fi
install -d "$PREFIX/bin" "$PREFIX/share/applications" "$PREFIX/share/icons/hicolor/256x256/apps" \
	"$PREFIX/share/icons/hicolor/48x48/apps"
install -m 0755 "$here/bin/worktray" "$PREFIX/bin/worktray"
install -m 0755 "$here/bin/worktray-ui" "$PREFIX/bin/worktray-ui"
sed "s#^Exec=worktray#Exec=$PREFIX/bin/worktray#" "$here/share/applications/worktray.desktop" \
	> "$PREFIX/share/applications/worktray.desktop"
chmod 0644 "$PREFIX/share/applications/worktray.desktop"
install -m 0644 "$here/share/icons/hicolor/256x256/apps/worktray.png" "$PREFIX/share/icons/hicolor/256x256/apps/worktray.png"
install -m 0644 "$here/share/icons/hicolor/48x48/apps/worktray.png" "$PREFIX/share/icons/hicolor/48x48/apps/worktray.png"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
echo "worktray installed in $PREFIX (start it from the menu, or run $PREFIX/bin/worktray)"
