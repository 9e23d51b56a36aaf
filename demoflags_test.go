package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"

	"worktray/scraper/demoportal"
)

// demo-portal's flags reach the portal's options, and bad values are refused naming the flag
// with exit code 2.
func TestDemoPortalFlags(t *testing.T) {
	parse := func(args ...string) (demoportal.Options, error) {
		var d demoFlags
		fs := flag.NewFlagSet("demo-portal", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		d.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return d.options()
	}
	o, err := parse("--list", "load-more", "--step", "25", "--page-size-control", "links", "--hidden-empty",
		"--close-on-page", "2", "--rich-text", "--bursts", "3", "--login-fails", "--count", "120")
	if err != nil {
		t.Fatal(err)
	}
	want := demoportal.ListModes{Shape: demoportal.ShapeLoadMore, Step: 25, PageSize: demoportal.SizeLinks,
		HiddenEmpty: true, CloseOnPage: 2, RichText: true, Bursts: 3}
	if o.List != want || !o.Faults.LoginAlwaysFails || o.Count != 120 {
		t.Errorf("options %+v, want list %+v, login fails, 120 orders", o, want)
	}
	for _, c := range []struct{ args, flag string }{
		{"--addr 0.0.0.0:8099", "--addr"}, {"--addr 192.168.1.2:80", "--addr"}, {"--count 5001", "--count"},
		{"--count -1", "--count"}, {"--list carousel", "--list"}, {"--page-size-control wheel", "--page-size-control"},
		{"--step 0", "--step"},
	} {
		if _, err := parse(strings.Fields(c.args)...); err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%s: err %v, want one naming %s", c.args, err, c.flag)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"demo-portal", "--addr", "0.0.0.0:8099"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "loopback") {
		t.Errorf("demo-portal on 0.0.0.0: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"demo-portal", "extra"}, io.Discard, &stderr); code != 2 {
		t.Errorf("demo-portal extra: exit %d, %q", code, stderr.String())
	}
}

// `worktray ui` without a desktop says so in words (not a GLFW panic) and exits 1.
func TestUIWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	var stderr bytes.Buffer
	if code := run([]string{"ui", "status"}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "no desktop") {
		t.Errorf("ui without a display: exit %d, %q", code, stderr.String())
	}
}
