package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func TestDesktopVariant(t *testing.T) {
	for _, tt := range []struct {
		scheme, gtk, env string
		want             fyne.ThemeVariant
	}{
		{"prefer-dark", "Adwaita", "", theme.VariantDark},
		{"prefer-light", "Adwaita-dark", "", theme.VariantLight},
		{"default", "Adwaita", "", theme.VariantLight},
		{"default", "Adwaita-dark", "", theme.VariantDark},
		{"", "", "Adwaita:dark", theme.VariantDark},
		{"", "", "", theme.VariantLight}, // no desktop says anything: freedesktop's default is light
	} {
		if got := desktopVariant(tt.scheme, tt.gtk, tt.env); got != tt.want {
			t.Errorf("desktopVariant(%q, %q, %q) = %v, want %v", tt.scheme, tt.gtk, tt.env, got, tt.want)
		}
	}
	test.NewTempApp(t)
	th := variantTheme{Theme: theme.DefaultTheme(), variant: theme.VariantLight}
	if th.Color(theme.ColorNameBackground, theme.VariantDark) != theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantLight) {
		t.Error("the light variant theme draws a dark background")
	}
}
