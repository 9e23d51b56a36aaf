#!/bin/sh
# Builds dist/worktray-VERSION-linux-ARCH.tar.xz: bin/worktray and bin/worktray-ui, the .desktop file, the icons and
# install.sh / uninstall.sh. Usage: assets/package/package.sh [VERSION] (from the repository root).
set -eu
version=${1:-$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)}
arch=$(go env GOARCH)
name="worktray-$version-linux-$arch"
stage="dist/$name"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/share/applications" "$stage/share/icons/hicolor/256x256/apps" \
	"$stage/share/icons/hicolor/48x48/apps"
CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o "$stage/bin/worktray" .
CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o "$stage/bin/worktray-ui" ./app/cmd/worktray-ui
cp assets/package/worktray.desktop "$stage/share/applications/worktray.desktop"
cp assets/icons/app.png "$stage/share/icons/hicolor/256x256/apps/worktray.png"
cp assets/icons/app-48.png "$stage/share/icons/hicolor/48x48/apps/worktray.png"
cp assets/package/install.sh assets/package/uninstall.sh "$stage/"
# The user documentation and the example profiles.
mkdir -p "$stage/share/doc/worktray"
[ -d docs ] && cp -R docs/. "$stage/share/doc/worktray/"
cp scraper/demo.toml "$stage/share/doc/worktray/demo-profile.toml"
# Shell completion, written by the binary itself.
if "$stage/bin/worktray" completion bash >/dev/null 2>&1; then
	mkdir -p "$stage/share/bash-completion/completions" "$stage/share/zsh/site-functions" \
		"$stage/share/fish/vendor_completions.d"
	"$stage/bin/worktray" completion bash >"$stage/share/bash-completion/completions/worktray"
	"$stage/bin/worktray" completion zsh >"$stage/share/zsh/site-functions/_worktray"
	"$stage/bin/worktray" completion fish >"$stage/share/fish/vendor_completions.d/worktray.fish"
fi
chmod 0755 "$stage/install.sh" "$stage/uninstall.sh"
[ -f README.md ] && cp README.md "$stage/"
tar -C dist -cJf "dist/$name.tar.xz" "$name"
rm -rf "$stage"
echo "dist/$name.tar.xz"
