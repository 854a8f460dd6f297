package template

import (
	"encoding/json"
	"strconv"
	"time"
)

// mapSource is a map-based Source for tests. Maps render as JSON, like
// Fluent Bit does for record accessor values that are maps.
type mapSource struct {
	rec map[string]any
	tag string
	t   time.Time
}

func (m *mapSource) Tag() string     { return m.tag }
func (m *mapSource) Time() time.Time { return m.t }

func (m *mapSource) AppendValue(dst []byte, key string, path []PathElem) ([]byte, bool) {
	v, ok := m.rec[key]
	if !ok {
		return dst, false
	}
	for _, e := range path {
		if e.IsIndex {
			a, ok := v.([]any)
			if !ok || e.Index >= len(a) {
				return dst, false
			}
			v = a[e.Index]
			continue
		}
		mm, ok := v.(map[string]any)
		if !ok {
			return dst, false
		}
		if v, ok = mm[e.Key]; !ok {
			return dst, false
		}
	}
	switch x := v.(type) {
	case string:
		return append(dst, x...), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case float64:
		return strconv.AppendFloat(dst, x, 'f', -1, 64), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case nil:
		return append(dst, "null"...), true
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return dst, false
		}
		return append(dst, b...), true
	}
}
