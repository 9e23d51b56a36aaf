package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestIconsDecode(t *testing.T) {
	check := func(name string, b []byte, size int) {
		t.Helper()
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := img.Bounds().Dx(); got != size || img.Bounds().Dy() != size {
			t.Errorf("%s: %v, want %d×%d", name, img.Bounds(), size, size)
		}
	}
	for _, s := range TrayStates() {
		check(string(s), Tray(s), 64)
	}
	check("app", App(), 256)
	check("app small", AppSmall(), 48)
	if !bytes.Equal(Tray("nonsense"), Tray(TrayIdle)) {
		t.Error("an unknown state should get the idle icon")
	}
	for i, a := range TrayStates() {
		for _, b := range TrayStates()[i+1:] {
			if bytes.Equal(Tray(a), Tray(b)) {
				t.Errorf("the %s and %s icons are the same", a, b)
			}
		}
	}
}
