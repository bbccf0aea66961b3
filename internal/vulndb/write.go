package vulndb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// entrySet collects OSV entries by ID, keeping each one's original bytes.
type entrySet struct {
	byID map[string]*rawEntry
}

type rawEntry struct {
	entry *Entry
	data  []byte
	from  string // where it was read, for messages
}

func newEntrySet() *entrySet { return &entrySet{byID: map[string]*rawEntry{}} }

// add parses data (read from "from") and adds it. The same ID twice is an
// error unless both copies are identical.
func (s *entrySet) add(from string, data []byte) error {
	e, err := ParseEntry(data)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if old, ok := s.byID[e.ID]; ok {
		if bytes.Equal(old.data, data) {
			return nil
		}
		return fmt.Errorf("%s: entry %s is also in %s, with different content", from, e.ID, old.from)
	}
	s.byID[e.ID] = &rawEntry{entry: e, data: data, from: from}
	return nil
}

// newest is the latest modification time of any entry (zero if none has one).
func (s *entrySet) newest() time.Time {
	var t time.Time
	for _, r := range s.byID {
		if r.entry.Modified.After(t) {
			t = r.entry.Modified
		}
	}
	return t
}

// write builds the database in a fresh directory beside dest and moves it
// into place, replacing what was there.
func (s *entrySet) write(dest string, modified time.Time) (*Info, error) {
	dest, err := filepath.Abs(dest)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".new-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // a no-op once it has been moved into place
	if err := s.writeTree(tmp, modified); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, dest); err != nil {
		return nil, err
	}
	return Open(dest)
}

func (s *entrySet) writeTree(root string, modified time.Time) error {
	if err := os.MkdirAll(filepath.Join(root, "index"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, entryDir), 0o755); err != nil {
		return err
	}
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	modules := map[string][]moduleRef{}
	vulns := make([]vulnMeta, 0, len(ids))
	for _, id := range ids {
		r := s.byID[id]
		if err := os.WriteFile(filepath.Join(root, entryDir, id+".json"), r.data, 0o644); err != nil {
			return err
		}
		e := r.entry
		vulns = append(vulns, vulnMeta{ID: id, Modified: e.Modified, Aliases: e.Aliases})
		for _, m := range e.Modules() {
			modules[m] = append(modules[m], moduleRef{ID: id, Modified: e.Modified, Fixed: e.LatestFixed(m)})
		}
	}
	paths := make([]string, 0, len(modules))
	for p := range modules {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	index := make([]moduleMeta, 0, len(paths))
	for _, p := range paths {
		index = append(index, moduleMeta{Path: p, Vulns: modules[p]})
	}
	for name, v := range map[string]any{dbFile: dbMeta{Modified: modified.UTC()}, modulesFile: index, vulnsFile: vulns} {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(root, name), append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// replaceDir moves the directory from to to, replacing any directory there.
// The old one is set aside first and removed only after the move, so at
// every moment one complete database exists.
func replaceDir(from, to string) error {
	old := ""
	if _, err := os.Lstat(to); err == nil {
		if _, err := os.Stat(filepath.Join(to, modulesFile)); err != nil {
			if entries, _ := os.ReadDir(to); len(entries) > 0 {
				return fmt.Errorf("%s exists and is not a vulnerability database; choose another --out", to)
			}
		}
		old = to + ".old"
		os.RemoveAll(old)
		if err := os.Rename(to, old); err != nil {
			return err
		}
	}
	if err := os.Rename(from, to); err != nil {
		if old != "" {
			os.Rename(old, to)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
