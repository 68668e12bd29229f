package bot

import "sync"

// seqCap bounds seenSeqs: past it the map starts again (what it forgets
// costs a chat message instead of a toast, nothing more).
const seqCap = 1 << 16

// seenSeqs is each chat's button generation (dialogs.State.Seq) as this
// replica last committed it. The webhook answers a merchant's button in its
// response, before the turn runs, and so without a toast; a button it knows
// to be of an earlier generation (a second tap that came after the first
// was applied, an old message's button) is left to the turn instead, which
// answers it with the toast ("no longer valid") on the button rather than
// in the chat. A chat it does not know, or a tap faster than the commit, is
// answered in the response as before, and the turn says it in the chat.
type seenSeqs struct {
	mu sync.Mutex
	m  map[int64]int
}

func (s *seenSeqs) set(chat int64, seq int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= seqCap {
		s.m = make(map[int64]int)
	}
	s.m[chat] = seq
}

// stale reports a button (its callback data, as signed by callbackCodec)
// known to be of an earlier generation than chat's. The signature is not
// checked here: this only decides who answers the button, and the turn
// checks it.
func (s *seenSeqs) stale(chat int64, data string) bool {
	seq, ok := callbackSeq(data)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, known := s.m[chat]
	return known && seq < cur
}
