package world

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// unknownField finds where an unknown field is, for a message better than
// encoding/json's (which names the field but not the element): it walks the
// document as generic JSON alongside the Document type and returns the
// first key the type does not have, with its path and the accepted names.
func unknownField(data []byte) (string, bool) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "", false
	}
	return walkUnknown(v, reflect.TypeOf(Document{}), "")
}

func walkUnknown(v any, t reflect.Type, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		// Keys in document order are not available from a map; report the
		// alphabetically first unknown key so the message is stable.
		var unknown []string
		for k := range obj {
			if _, ok := fields[k]; !ok {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			first := unknown[0]
			for _, k := range unknown {
				if k < first {
					first = k
				}
			}
			where := path
			if where == "" {
				where = "the document"
			}
			return fmt.Sprintf("%s: unknown field %q; expected %s", where, first, strings.Join(names, ", ")), true
		}
		for _, name := range names {
			if sub, ok := obj[name]; ok {
				p := name
				if path != "" {
					p = path + "." + name
				}
				if msg, ok := walkUnknown(sub, fields[name], p); ok {
					return msg, true
				}
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return "", false
		}
		for i, e := range arr {
			if msg, ok := walkUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); ok {
				return msg, true
			}
		}
	}
	return "", false
}
