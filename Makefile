# worktray — build, run, test.
GO        ?= go
BIN       ?= worktray
# Fyne reads the locale from LANG and complains about "C" or an empty one.
export LANG = en_US.UTF-8
export DISABLE_ROD_FLAG = 1

# Debian packages the tests and the desktop build need: Chromium for the scraper, Xvfb and a
# session D-Bus for the tray and window tests, ImageMagick for screenshots, and Fyne's cgo headers.
APT_PACKAGES = chromium xvfb xauth x11-utils dbus dbus-x11 imagemagick gcc pkg-config \
	xorg-dev libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev

.PHONY: all build run test test-short bench soak lint deps deps-run package clean

all: build

## build: the owner and CLI (worktray) and the windows (worktray-ui), side by side.
build:
	$(GO) build -o $(BIN) .
	$(GO) build -o $(BIN)-ui ./app/cmd/worktray-ui

## run: install what is missing (Chromium, Fyne's headers), build, and start worktray on the bundled
## demo portal (its own data directory; a scrape runs at once). The binaries are ./worktray and
## ./worktray-ui in this directory.
run: deps-run build
	./$(BIN) run --demo

# deps-run: what `make run` needs on a fresh Debian/Ubuntu machine (uses sudo when not root).
RUN_PACKAGES = chromium gcc pkg-config xorg-dev libgl1-mesa-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev
deps-run:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing gcc"; \
	pkg-config --exists gl x11 xcursor xrandr xinerama xi xxf86vm 2>/dev/null || missing="$$missing $(RUN_PACKAGES)"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## deps: install what the tests need when it is missing (Debian/Ubuntu; uses sudo when not root).
deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v Xvfb >/dev/null 2>&1 || missing="$$missing xvfb xauth"; \
	command -v xwininfo >/dev/null 2>&1 || missing="$$missing x11-utils"; \
	command -v dbus-daemon >/dev/null 2>&1 || missing="$$missing dbus dbus-x11"; \
	command -v import >/dev/null 2>&1 || missing="$$missing imagemagick"; \
	pkg-config --exists gl x11 xcursor xrandr xinerama xi xxf86vm 2>/dev/null || missing="$$missing $(APT_PACKAGES)"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## test: install what is missing, then run every test with the race detector.
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

test-short:
	$(GO) test -race -count=1 -short ./...

## bench: the benchmarks named in the issues.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...

## soak: the long randomized and kill-cycle runs (sizes from WORKTRAY_SOAK_N, WORKTRAY_PROPERTY_N,
## WORKTRAY_KILL_CYCLES, WORKTRAY_DAMAGE_CASES, WORKTRAY_LIST_ROUNDS; larger here than in `make test`).
soak: deps
	WORKTRAY_SOAK_N=$${WORKTRAY_SOAK_N:-5000} WORKTRAY_PROPERTY_N=$${WORKTRAY_PROPERTY_N:-20000} \
	WORKTRAY_KILL_CYCLES=$${WORKTRAY_KILL_CYCLES:-50} WORKTRAY_DAMAGE_CASES=$${WORKTRAY_DAMAGE_CASES:-2000} \
	WORKTRAY_LIST_ROUNDS=$${WORKTRAY_LIST_ROUNDS:-40} \
	$(GO) test -race -count=1 -timeout 120m -run 'Soak|Property|Liveness|Kill|Damaged' ./...

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

## package: an installable Linux archive dist/worktray-VERSION-linux-ARCH.tar.xz (bin/, .desktop, icons, install.sh).
package:
	sh assets/package/package.sh

clean:
	rm -rf $(BIN) $(BIN)-ui dist
