#!/bin/sh
# Installs worktray from this archive: into ~/.local for the current user, or into /usr/local
# when run as root (or into PREFIX when set). Run it again to upgrade; uninstall.sh removes it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PREFIX:-}" ]; then
	if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX="$HOME/.local"; fi
fi
echo "installing worktray into $PREFIX:"
put() { # put MODE SOURCE DEST
	install -D -m "$1" "$2" "$PREFIX/$3"
	echo "  $PREFIX/$3"
}
put 0755 "$here/bin/worktray" bin/worktray
put 0755 "$here/bin/worktray-ui" bin/worktray-ui
install -d "$PREFIX/share/applications"
sed "s#^Exec=worktray#Exec=$PREFIX/bin/worktray#" "$here/share/applications/worktray.desktop" \
	> "$PREFIX/share/applications/worktray.desktop"
chmod 0644 "$PREFIX/share/applications/worktray.desktop"
echo "  $PREFIX/share/applications/worktray.desktop"
put 0644 "$here/share/icons/hicolor/256x256/apps/worktray.png" share/icons/hicolor/256x256/apps/worktray.png
put 0644 "$here/share/icons/hicolor/48x48/apps/worktray.png" share/icons/hicolor/48x48/apps/worktray.png
for f in share/bash-completion/completions/worktray share/zsh/site-functions/_worktray \
	share/fish/vendor_completions.d/worktray.fish; do
	[ -f "$here/$f" ] && put 0644 "$here/$f" "$f"
done
if [ -d "$here/share/doc/worktray" ]; then
	install -d "$PREFIX/share/doc/worktray"
	cp -R "$here/share/doc/worktray/." "$PREFIX/share/doc/worktray/"
	echo "  $PREFIX/share/doc/worktray/ (the profile language, the command line, example profiles)"
fi
# A start-at-login entry written earlier runs the worktray it named: point it at this one.
autostart="${XDG_CONFIG_HOME:-$HOME/.config}/autostart/worktray.desktop"
if [ -f "$autostart" ]; then
	sed -i "s#^Exec=.*#Exec=$PREFIX/bin/worktray#" "$autostart"
	echo "  $autostart now starts $PREFIX/bin/worktray at login"
fi
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -f -t "$PREFIX/share/icons/hicolor" || true
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) echo "note: $PREFIX/bin is not on your PATH; add it to run worktray from a terminal" ;; esac
echo "worktray installed in $PREFIX: start it from the menu, or run $PREFIX/bin/worktray"
