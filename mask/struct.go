package mask

import (
	"errors"
	"fmt"
	"reflect"
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
// Fields of nested structs, pointers, slices, arrays, interfaces and map
// values that are pointers are visited (to a depth of 32). A tag on a field
// that is not a string (but for redact and need=), an unknown kind, or a
// tagged field that cannot be changed (its struct held by value in an
// interface) is an error. Unexported fields are left alone.
func Struct(v any, allowed Allowed) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return errors.New("mask: Struct needs a pointer to a struct")
	}
	return walk(rv.Elem(), allowed, 0)
}

// maxStructDepth bounds how deep Struct goes (and stops cycles).
const maxStructDepth = 32

func walk(v reflect.Value, allowed Allowed, depth int) error {
	if depth > maxStructDepth {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walk(v.Elem(), allowed, depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walk(v.Index(i), allowed, depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Pointer || e.Kind() == reflect.Map || e.Kind() == reflect.Slice {
				if err := walk(e, allowed, depth+1); err != nil {
					return err
				}
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			fv := v.Field(i)
			tag, ok := sf.Tag.Lookup("mask")
			if !ok || tag == "" {
				if err := walk(fv, allowed, depth+1); err != nil {
					return err
				}
				continue
			}
			if err := applyTag(fv, sf, tag, allowed); err != nil {
				return err
			}
		}
	}
	return nil
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
	if action != "" && action != "redact" && action != "scan" && !knownKind(Kind(action)) {
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

func knownKind(k Kind) bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}
