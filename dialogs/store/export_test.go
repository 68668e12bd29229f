package store

// WithCipher returns a Memory over m's data that seals with c, so tests can
// read one data set with two keys.
func (m *Memory) WithCipher(c *Cipher) *Memory {
	cp := *m
	cp.c = c
	return &cp
}
