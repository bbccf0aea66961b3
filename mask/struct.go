package mask

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Allowed are the roles a caller has and the consents a data subject gave,
// by name: what Struct checks the `mask` tags' show= and need= against.
type Allowed map[string]bool

// Struct applies data minimisation to the struct v points to, in place, as
// each string field's `mask` tag says:
//
//	`mask:"idcard"`                 masked as an ID number (any Kind)
//	`mask:"mobile,show=support"`    masked, shown whole to a caller allowed "support"
//	`mask:"need=marketing"`         dropped (emptied) unless "marketing" is allowed
//	`mask:"email,need=kyc|audit"`   dropped unless kyc or audit is allowed, then masked
//	`mask:"redact"`                 always emptied
//	`mask:"scan"`                   searched, what is found masked
//
// Fields of nested structs (embedded ones too), pointers (each once),
// slices, arrays, interfaces and maps are visited, 64 structs deep. What
// cannot be masked is an error, never left as it was: a tag on a field that
// is not a string (but for redact and need=), an unknown kind, a tagged
// field that cannot be changed (its struct held by value in an interface or
// a map, or embedded unexported), a deeper nesting. Unexported fields that
// are not embedded are left alone.
func Struct(v any, allowed Allowed) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return errors.New("mask: Struct needs a pointer to a struct")
	}
	w := &walker{allowed: allowed, visited: map[uintptr]bool{}}
	return w.walk(rv.Elem(), 0)
}

// maxStructDepth bounds how many structs deep Struct goes: deeper is an
// error, not data left unmasked.
const maxStructDepth = 64

type walker struct {
	allowed Allowed
	visited map[uintptr]bool // pointers walked: each once, cycles end
}

func (w *walker) walk(v reflect.Value, depth int) error {
	if depth > maxStructDepth {
		return fmt.Errorf("mask: %s nests deeper than %d structs", v.Type(), maxStructDepth)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || w.visited[v.Pointer()] {
			return nil
		}
		w.visited[v.Pointer()] = true
		return w.walk(v.Elem(), depth)
	case reflect.Interface:
		if !v.IsNil() {
			return w.walk(v.Elem(), depth)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := w.walk(v.Index(i), depth); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Interface && !e.IsNil() {
				e = e.Elem()
			}
			if e.Kind() == reflect.Struct {
				// A struct held in a map cannot be changed in place.
				if hasTags(e.Type(), map[reflect.Type]bool{}) {
					return fmt.Errorf("mask: a map holds %s by value, whose tagged fields cannot be changed in place (hold pointers)", e.Type())
				}
				continue
			}
			if err := w.walk(e, depth); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() && !sf.Anonymous {
				continue
			}
			fv := v.Field(i)
			tag, ok := sf.Tag.Lookup("mask")
			if !ok || tag == "" {
				if err := w.walk(fv, depth+1); err != nil {
					return err
				}
				continue
			}
			if err := applyTag(fv, sf, tag, w.allowed); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasTags reports whether t, or a struct it holds, has a field with a
// mask tag.
func hasTags(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
	}
	seen[t] = true
	for i := range t.NumField() {
		sf := t.Field(i)
		if _, ok := sf.Tag.Lookup("mask"); ok || hasTags(sf.Type, seen) {
			return true
		}
	}
	return false
}

// applyTag does what one field's tag says.
func applyTag(fv reflect.Value, sf reflect.StructField, tag string, allowed Allowed) error {
	var action string
	var show, need []string
	for _, part := range strings.Split(tag, ",") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "show="):
			show = strings.Split(part[len("show="):], "|")
		case strings.HasPrefix(part, "need="):
			need = strings.Split(part[len("need="):], "|")
		case action == "":
			action = part
		default:
			return fmt.Errorf("mask: field %s: tag %q names two actions", sf.Name, tag)
		}
	}
	if action != "" && action != "redact" && action != "scan" && !slices.Contains(Kinds, Kind(action)) {
		return fmt.Errorf("mask: field %s: %q is not a kind (there are %v), redact or scan", sf.Name, action, Kinds)
	}
	if !fv.CanSet() {
		return fmt.Errorf("mask: field %s cannot be changed: its struct is held by value in an interface or a map (hold a pointer)", sf.Name)
	}
	if need != nil && !anyAllowed(need, allowed) || action == "redact" {
		fv.SetZero()
		return nil
	}
	if show != nil && anyAllowed(show, allowed) || action == "" {
		return nil
	}
	if fv.Kind() != reflect.String {
		return fmt.Errorf("mask: field %s is a %s; only strings can be masked (redact and need= empty any field)", sf.Name, fv.Type())
	}
	s := fv.String()
	if s == "" {
		return nil
	}
	if action == "scan" {
		fv.SetString(String(s))
		return nil
	}
	masked, err := DefaultMask(Kind(action)).Apply(Finding{Kind: Kind(action), End: len(s), Value: s})
	if err != nil {
		return err
	}
	fv.SetString(masked)
	return nil
}

func anyAllowed(names []string, allowed Allowed) bool {
	for _, n := range names {
		if allowed[n] {
			return true
		}
	}
	return false
}
