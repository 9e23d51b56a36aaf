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
	if bytes.Equal(Tray(TrayFailing), Tray(TrayIdle)) {
		t.Error("failing and idle icons are the same")
	}
}
