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
	portalsettings "github.com/rymdport/portal/settings"
	"github.com/rymdport/portal/settings/appearance"
)

// followDesktopTheme makes the windows follow the desktop's light or dark preference. Fyne
// reads the freedesktop portal's color-scheme setting, but where no portal answers, or it has
// no preference, Fyne on Linux falls back to dark whatever the desktop shows. So the windows
// start in the variant the GNOME settings (gsettings org.gnome.desktop.interface color-scheme,
// then its gtk-theme) or $GTK_THEME say, light when none says (as freedesktop's "no preference"
// means); when the portal answers with a preference, now or later, it wins and its changes are
// followed. $FYNE_THEME, when set, wins as in any Fyne app. It must run on Fyne's goroutine
// before the first window; the portal is asked in the background, since it can hang on some
// desktops.
func followDesktopTheme(a fyne.App) {
	if os.Getenv("FYNE_THEME") != "" {
		return
	}
	apply := func(v fyne.ThemeVariant) {
		a.Settings().SetTheme(variantTheme{Theme: theme.DefaultTheme(), variant: v})
	}
	apply(desktopVariant(gsettings("color-scheme"), gsettings("gtk-theme"), os.Getenv("GTK_THEME")))
	go func() {
		if v, ok := portalVariant(2 * time.Second); ok {
			fyne.Do(func() { apply(v) })
		}
		_ = portalsettings.OnSignalSettingChanged(func(c portalsettings.Changed) {
			if c.Namespace != appearance.Namespace || c.Key != "color-scheme" {
				return
			}
			if cs, err := appearance.ValueToColorScheme(c.Value); err == nil && cs != appearance.NoPreference {
				v := theme.VariantLight
				if cs == appearance.Dark {
					v = theme.VariantDark
				}
				fyne.Do(func() { apply(v) })
			}
		})
	}()
}

// portalVariant asks the freedesktop portal for the desktop's preference; ok is false when it
// does not answer within d or has none.
func portalVariant(d time.Duration) (v fyne.ThemeVariant, ok bool) {
	res := make(chan appearance.ColorScheme, 1)
	go func() {
		cs, err := appearance.GetColorScheme()
		if err != nil {
			cs = appearance.NoPreference
		}
		res <- cs
	}()
	select {
	case cs := <-res:
		switch cs {
		case appearance.Dark:
			return theme.VariantDark, true
		case appearance.Light:
			return theme.VariantLight, true
		}
	case <-time.After(d):
	}
	return 0, false
}

// gsettings reads a key of org.gnome.desktop.interface, or "" when there is no gsettings or no
// such key. It blocks for at most half a second.
func gsettings(key string) string {
	if _, err := exec.LookPath("gsettings"); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
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
