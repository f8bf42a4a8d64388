package episode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// storeVersion is the format of the file; a file of another version is
// ignored like a corrupt one.
const storeVersion = 1

// maxStore bounds what Load reads: a few hundred bytes per episode.
const maxStore = 16 << 20

// Store keeps the open episodes in a JSON file, so that a restarted
// listener neither forgets an episode nor reports one twice.
type Store struct {
	Path string
}

type storeFile struct {
	Version  int      `json:"version"`
	Episodes []Record `json:"episodes"`
}

// Check reports whether Save can work: the file's directory exists and
// accepts a new file, and the file, if it exists, is a regular file.
func (s Store) Check() error {
	dir := filepath.Dir(s.Path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("state directory %s is not a directory", dir)
	}
	if fi, err := os.Stat(s.Path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("state file %s is not a regular file", s.Path)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.Path)+".check*")
	if err != nil {
		return fmt.Errorf("state directory %s does not accept files: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// Load reads the episodes. A missing file holds none (nil, nil); an
// unreadable, corrupt or foreign file is an error, which the caller logs
// and otherwise ignores: the next Save replaces the file.
func (s Store) Load() ([]Record, error) {
	f, err := os.Open(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStore+1))
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	if len(b) > maxStore {
		return nil, fmt.Errorf("state file %s: larger than %d bytes", s.Path, maxStore)
	}
	var sf storeFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("state file %s: %w", s.Path, err)
	}
	if sf.Version != storeVersion {
		return nil, fmt.Errorf("state file %s: version %d, want %d", s.Path, sf.Version, storeVersion)
	}
	out := sf.Episodes[:0]
	for _, r := range sf.Episodes {
		if r.Group != "" && r.Name != "" && !r.Since.IsZero() {
			out = append(out, r)
		}
	}
	return out, nil
}

// Save replaces the file atomically: a new file next to it, synced, then
// renamed over it, so that a crash leaves either the old or the new
// content, never a mix.
func (s Store) Save(recs []Record) error {
	if recs == nil {
		recs = []Record{}
	}
	b, err := json.MarshalIndent(storeFile{Version: storeVersion, Episodes: recs}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(s.Path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.Path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.Path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing state file %s: %w", s.Path, err)
	}
	// The rename is durable once the directory is synced; failing that is
	// no reason to report an error, the content is in place.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
