package scheduler

import "testing"

func TestRunChanges(t *testing.T) {
	for _, tt := range []struct {
		run  Run
		want string
	}{
		{Run{}, ""},
		{Run{New: 3}, "3 new"},
		{Run{New: 3, Changed: 2, Removed: 1}, "3 new, 2 changed, 1 removed"},
		{Run{Removed: 4}, "4 removed"},
		{Run{Changed: 1, Missing: 2}, "1 changed, 2 missing"},
	} {
		if got := tt.run.Changes(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.run, got, tt.want)
		}
	}
}

func TestOrderHashes(t *testing.T) {
	o := Order{PortalID: "1", Number: "W-100001", Instructions: "ring twice"}
	p := o
	p.Instructions = "ring once"
	if o.ListHash() != p.ListHash() || o.ContentHash() == p.ContentHash() {
		t.Fatal("instructions must change the content hash and not the list hash")
	}
	p = o
	p.Items = []string{"a", "b"}
	q := o
	q.Items = []string{"ab"}
	if p.ListHash() == q.ListHash() {
		t.Fatal("items [a b] and [ab] hash alike")
	}
}
