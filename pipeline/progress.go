package pipeline

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// progressMap remembers, for chunks answered with FLB_RETRY, which records
// already reached the downstream, so that the retry sends only the rest:
// most downstreams (Loki, VictoriaLogs, a forward input) would store a
// record twice. Fluent Bit retries the same bytes under the same tag, which
// identifies the chunk.
type progressMap struct {
	mu    sync.Mutex
	done  map[progressKey][]bool
	order []progressKey // oldest first, to bound the map
	size  atomic.Int32
}

// maxPending bounds the memory kept for chunks that Fluent Bit may have
// given up on (retry_limit) and will never flush again.
const maxPending = 1024

type progressKey [2]uint64

var seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func keyOf(tag string, data []byte) progressKey {
	var k progressKey
	for i, seed := range seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(tag)
		h.Write(data)
		k[i] = h.Sum64()
	}
	return k
}

// pending is cheap, so a flush only hashes its chunk when some retry is due.
func (m *progressMap) pending() bool { return m.size.Load() > 0 }

// take returns and forgets what is known of a chunk.
func (m *progressMap) take(k progressKey) []bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.done[k]
	if ok {
		delete(m.done, k)
		m.size.Store(int32(len(m.done)))
	}
	return d
}

func (m *progressMap) put(k progressKey, done []bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done == nil {
		m.done = make(map[progressKey][]bool)
	}
	m.done[k] = done
	m.order = append(m.order, k)
	for len(m.done) > maxPending && len(m.order) > 0 {
		delete(m.done, m.order[0])
		m.order = m.order[1:]
	}
	if len(m.order) > 4*maxPending { // drop keys already taken
		live := m.order[:0]
		for _, k := range m.order {
			if _, ok := m.done[k]; ok {
				live = append(live, k)
			}
		}
		m.order = live
	}
	m.size.Store(int32(len(m.done)))
}
