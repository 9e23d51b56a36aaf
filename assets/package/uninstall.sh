#!/bin/sh
# Removes what install.sh installed, the start-at-login entry of the user who runs it, and
# refreshes the menu and icon caches. Your data stays: ~/.local/share/worktray, ~/.config/worktray
# and ~/.local/state/worktray (remove them by hand to forget everything).
set -eu
if [ -z "${PREFIX:-}" ]; then
	if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX="$HOME/.local"; fi
fi
for f in bin/worktray bin/worktray-ui share/applications/worktray.desktop \
	share/icons/hicolor/256x256/apps/worktray.png share/icons/hicolor/48x48/apps/worktray.png \
	share/bash-completion/completions/worktray share/zsh/site-functions/_worktray \
	share/fish/vendor_completions.d/worktray.fish; do
	if [ -e "$PREFIX/$f" ]; then rm -f "$PREFIX/$f" && echo "removed $PREFIX/$f"; fi
done
if [ -d "$PREFIX/share/doc/worktray" ]; then rm -rf "$PREFIX/share/doc/worktray" && echo "removed $PREFIX/share/doc/worktray"; fi
autostart="${XDG_CONFIG_HOME:-$HOME/.config}/autostart/worktray.desktop"
if [ -e "$autostart" ]; then rm -f "$autostart" && echo "removed $autostart (start at login)"; fi
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -f -t "$PREFIX/share/icons/hicolor" || true
echo "worktray removed from $PREFIX"
