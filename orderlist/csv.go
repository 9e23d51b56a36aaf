package orderlist

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"worktray/scheduler"
)

// WriteCSV writes orders as CSV to w: a header row of the column keys (Columns), then one row
// per order in the order given. It returns the number of order rows written. Instants are
// RFC 3339 UTC. The CLI (`orders --csv`) and the work orders window both write with it.
func WriteCSV(w io.Writer, orders []scheduler.Order) (int, error) {
	cols := Columns(orders)
	cw := csv.NewWriter(w)
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = c.Key
	}
	if err := cw.Write(row); err != nil {
		return 0, fmt.Errorf("write CSV: %w", err)
	}
	for n, o := range orders {
		for i, c := range cols {
			row[i] = c.Value(o)
		}
		if err := cw.Write(row); err != nil {
			return n, fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, fmt.Errorf("write CSV: %w", err)
	}
	return len(orders), nil
}

// ExportCSV writes orders as CSV (WriteCSV) to the file path, atomically: into a temporary file
// in the same directory, synced, then renamed over path, so a failure leaves no half-written
// file and an existing file intact. The file gets mode 0600 (orders name customers and
// sites). It returns the number of rows written and the absolute path. It blocks on disk I/O.
func ExportCSV(path string, orders []scheduler.Order) (int, string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, "", fmt.Errorf("export CSV to %s: %w", path, err)
	}
	var n int
	err = WriteFileAtomic(abs, 0o600, true, func(w io.Writer) error {
		var err error
		n, err = WriteCSV(w, orders)
		return err
	})
	if err != nil {
		return 0, abs, err
	}
	return n, abs, nil
}

// WriteFileAtomic writes a file at path with write, atomically: a temporary file in the same
// directory, given mode perm, synced to disk when sync is set, then renamed over path, so a
// reader sees the old file or the new one, never half of one. Without sync the rename is still
// atomic for readers but a crash right after it may leave an empty file (use it for files that
// are rewritten anyway, such as visits.ics). On any error the temporary file is removed and
// path is left as it was. The directory must exist. It blocks on disk I/O.
func WriteFileAtomic(path string, perm os.FileMode, sync bool, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if sync {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
