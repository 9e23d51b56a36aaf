package ui

import (
	"context"
	"image/color"
	"os"
	"os/exec"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/rymdport/portal/settings/appearance"
)

// followDesktopTheme makes the windows follow the desktop's light or dark preference. Fyne reads
// the freedesktop portal's color-scheme setting and follows its changes by itself; but where no
// portal answers, or it has no preference, Fyne on Linux falls back to dark whatever the desktop
// shows. Then the GNOME setting (gsettings org.gnome.desktop.interface color-scheme, then its
// gtk-theme) or $GTK_THEME decides, and light when none says (as freedesktop's "no preference"
// means). $FYNE_THEME, when set, wins as in any Fyne app. It returns at once; the lookups run in
// the background because the portal can hang on some desktops.
func followDesktopTheme(a fyne.App) {
	if os.Getenv("FYNE_THEME") != "" {
		return
	}
	go func() {
		if portalHasPreference(2 * time.Second) {
			return // Fyne follows the portal
		}
		v := desktopVariant(gsettings("color-scheme"), gsettings("gtk-theme"), os.Getenv("GTK_THEME"))
		fyne.Do(func() { a.Settings().SetTheme(variantTheme{Theme: theme.DefaultTheme(), variant: v}) })
	}()
}

// portalHasPreference reports whether the freedesktop portal answers with a light or dark
// preference within d.
func portalHasPreference(d time.Duration) bool {
	res := make(chan bool, 1)
	go func() {
		cs, err := appearance.GetColorScheme()
		res <- err == nil && cs != appearance.NoPreference
	}()
	select {
	case ok := <-res:
		return ok
	case <-time.After(d):
		return false
	}
}

// gsettings reads a key of org.gnome.desktop.interface, or "" when there is no gsettings or no
// such key. It blocks for at most two seconds.
func gsettings(key string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gsettings", "get", "org.gnome.desktop.interface", key).Output()
	if err != nil {
		return ""
	}
	return strings.Trim(strings.TrimSpace(string(out)), "'")
}

// desktopVariant decides light or dark from GNOME's color-scheme ("prefer-dark", "prefer-light"
// or "default"), its GTK theme name and $GTK_THEME ("Adwaita:dark"): dark when one of them says
// dark, light otherwise.
func desktopVariant(colorScheme, gtkTheme, gtkThemeEnv string) fyne.ThemeVariant {
	switch colorScheme {
	case "prefer-dark":
		return theme.VariantDark
	case "prefer-light":
		return theme.VariantLight
	}
	for _, name := range []string{strings.ToLower(gtkTheme), strings.ToLower(gtkThemeEnv)} {
		if strings.HasSuffix(name, "-dark") || strings.HasSuffix(name, ":dark") {
			return theme.VariantDark
		}
	}
	return theme.VariantLight
}

// variantTheme is a theme that always draws in one variant, whatever Fyne's own guess.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

// Color implements fyne.Theme.
func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}
