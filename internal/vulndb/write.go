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
	// now is the time of the import or update: an entry modified more
	// than maxClockSkew after it is refused.
	now time.Time
}

type rawEntry struct {
	entry *Entry
	data  []byte
	from  string // where it was read, for messages
}

func newEntrySet(now time.Time) *entrySet {
	return &entrySet{byID: map[string]*rawEntry{}, now: now}
}

// add parses data (read from "from") and adds it. The same ID twice is an
// error unless both copies are identical, and so is an entry modified in
// the future: one entry dated 9999 would date the whole database, and
// every check of its age would pass until then.
func (s *entrySet) add(from string, data []byte) error {
	e, err := ParseEntry(data)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if err := checkNotFuture(e.Modified, s.now); err != nil {
		return fmt.Errorf("%s: entry %s: %w", from, e.ID, err)
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

// checkNotFuture refuses a modification time t more than maxClockSkew
// after now.
func checkNotFuture(t, now time.Time) error {
	if t.After(now.Add(maxClockSkew)) {
		return fmt.Errorf("modified %s, which is in the future (it is %s): a database dated so would pass every age check until then",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
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
