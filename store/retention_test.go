package store

import (
	"errors"
	"testing"

	"worktray/scheduler"
)

func TestRetentionValidate(t *testing.T) {
	for _, tt := range []struct {
		keep int
		ok   bool
	}{
		{10_000, true}, {MinKeepRuns, true}, {MaxKeepRuns, true},
		{MinKeepRuns - 1, false}, {MaxKeepRuns + 1, false}, {0, false}, {-5, false},
	} {
		err := Retention{KeepRuns: tt.keep}.Validate()
		var ve scheduler.ValidationError
		switch {
		case tt.ok && err != nil:
			t.Errorf("keep %d: %v, want valid", tt.keep, err)
		case !tt.ok && (!errors.As(err, &ve) || ve.Field("keep_runs") == nil):
			t.Errorf("keep %d: %v, want a ValidationError naming keep_runs", tt.keep, err)
		}
	}
	if err := DefaultRetention().Validate(); err != nil {
		t.Errorf("the default is invalid: %v", err)
	}
}

func TestRetentionSetting(t *testing.T) {
	db := newDB(t)
	if r, err := db.Retention(); err != nil || r != DefaultRetention() {
		t.Fatalf("Retention() of a new store = %+v, %v; want the default", r, err)
	}
	before := dump(t, db)
	err := db.SaveRetention(Retention{KeepRuns: 5})
	var ve scheduler.ValidationError
	if !errors.As(err, &ve) || ve.Field("keep_runs") == nil {
		t.Fatalf("SaveRetention(5) = %v, want a ValidationError naming keep_runs", err)
	}
	if d := diffDumps(before, dump(t, db)); len(d) > 0 {
		t.Errorf("an invalid retention was written: %v", d)
	}
	if err := db.SaveRetention(Retention{KeepRuns: 250}); err != nil {
		t.Fatal(err)
	}
	if r, err := db.Retention(); err != nil || r.KeepRuns != 250 {
		t.Errorf("Retention() = %+v, %v; want 250", r, err)
	}
	// A value written around the validation is returned with its error.
	if err := db.PutSetting(RetentionKey, Retention{KeepRuns: 1}); err != nil {
		t.Fatal(err)
	}
	if r, err := db.Retention(); !errors.As(err, &ve) || r.KeepRuns != 1 {
		t.Errorf("Retention() of an invalid stored value = %+v, %v", r, err)
	}
}
