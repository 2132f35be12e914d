//! The reader's byte buffer and the separator search of `readuntil`, kept
//! apart from the socket so they can be tested byte by byte.

/// How many bytes one socket read asks for. With the reader's limit this
/// bounds the buffer of a `readuntil`: at most `limit + READ_CHUNK` bytes.
pub(super) const READ_CHUNK: usize = 64 * 1024;

/// Bytes received and not yet handed out: `storage[start..end]`.
///
/// Consuming moves `start`; the unused head is reclaimed when the next read
/// needs room, so the storage only grows when the data itself does.
#[derive(Debug, Default)]
pub(super) struct ReadBuffer {
    storage: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// The buffered bytes.
    pub(super) fn data(&self) -> &[u8] {
        &self.storage[self.start..self.end]
    }

    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(super) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Removes and returns the first `n` buffered bytes (`n <= len`).
    pub(super) fn take(&mut self, n: usize) -> Vec<u8> {
        debug_assert!(n <= self.len());
        let taken = self.storage[self.start..self.start + n].to_vec();
        self.discard(n);
        taken
    }

    /// Removes and returns every buffered byte.
    pub(super) fn take_all(&mut self) -> Vec<u8> {
        self.take(self.len())
    }

    /// Forgets the first `n` buffered bytes (`n <= len`).
    pub(super) fn discard(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room for `READ_CHUNK` more bytes, to read into; call
    /// [`commit`](ReadBuffer::commit) with how many were written.
    pub(super) fn spare(&mut self) -> &mut [u8] {
        if self.storage.len() - self.end < READ_CHUNK {
            if self.start > 0 {
                self.storage.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.storage.len() - self.end < READ_CHUNK {
                self.storage.resize(self.end + READ_CHUNK, 0);
            }
        }
        &mut self.storage[self.end..self.end + READ_CHUNK]
    }

    /// Marks `n` bytes written into [`spare`](ReadBuffer::spare) as data.
    pub(super) fn commit(&mut self, n: usize) {
        debug_assert!(self.end + n <= self.storage.len());
        self.end += n;
    }

    /// Appends `bytes` (used by tests and by code that already holds data).
    #[cfg(test)]
    pub(super) fn extend(&mut self, bytes: &[u8]) {
        let spare = self.spare();
        let n = bytes.len().min(spare.len());
        spare[..n].copy_from_slice(&bytes[..n]);
        self.commit(n);
        if n < bytes.len() {
            self.extend(&bytes[n..]);
        }
    }
}

/// The outcome of one look for a separator in the buffered bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scan {
    /// The separator starts at this index.
    Found(usize),
    /// Not there yet: read more, then look again from `resume_at`.
    NeedMore { resume_at: usize },
    /// Not found within `limit` bytes: give up.
    Overrun { consumed: usize },
}

/// Looks for `separator` in `data` from `resume_at` on, the way asyncio's
/// `readuntil` does: bytes already scanned are not scanned again, except
/// the last `separator.len() - 1`, which may be the start of a separator
/// that the next read completes. Gives up once more than `limit` bytes were
/// scanned without a match. `separator` must not be empty.
pub(super) fn scan(data: &[u8], separator: &[u8], resume_at: usize, limit: usize) -> Scan {
    debug_assert!(!separator.is_empty());
    if data.len() >= resume_at + separator.len() {
        if let Some(index) = data[resume_at..]
            .windows(separator.len())
            .position(|window| window == separator)
        {
            return Scan::Found(resume_at + index);
        }
        let resume_at = data.len() + 1 - separator.len();
        if resume_at > limit {
            return Scan::Overrun {
                consumed: resume_at,
            };
        }
        return Scan::NeedMore { resume_at };
    }
    Scan::NeedMore { resume_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` one byte at a time, scanning after each byte as the
    /// reader does after each socket read; returns the first final outcome.
    fn scan_byte_by_byte(input: &[u8], separator: &[u8], limit: usize) -> Option<Scan> {
        let mut resume_at = 0;
        for end in 1..=input.len() {
            match scan(&input[..end], separator, resume_at, limit) {
                Scan::NeedMore { resume_at: next } => resume_at = next,
                done => return Some(done),
            }
        }
        None
    }

    #[test]
    fn a_separator_arriving_one_byte_at_a_time_is_found_where_it_starts() {
        let found = scan_byte_by_byte(b"hello\r\nworld", b"\r\n", 100);
        assert_eq!(found, Some(Scan::Found(5)));
        let found = scan_byte_by_byte(b"ab--E--N--END--rest", b"--END--", 100);
        assert_eq!(found, Some(Scan::Found(8)));
    }

    #[test]
    fn scanning_resumes_without_missing_a_separator_cut_by_a_read() {
        // The first read ends in the middle of the separator.
        let first = scan(b"abc\r", b"\r\n", 0, 100);
        assert_eq!(first, Scan::NeedMore { resume_at: 3 });
        assert_eq!(scan(b"abc\r\n", b"\r\n", 3, 100), Scan::Found(3));
    }

    #[test]
    fn a_missing_separator_overruns_once_more_than_the_limit_was_scanned() {
        assert_eq!(
            scan(b"0123456789", b"\n", 0, 16),
            Scan::NeedMore { resume_at: 10 }
        );
        assert_eq!(
            scan(&[b'x'; 17], b"\n", 0, 16),
            Scan::Overrun { consumed: 17 }
        );
        assert_eq!(
            scan_byte_by_byte(&[b'x'; 40], b"\n", 16),
            Some(Scan::Overrun { consumed: 17 })
        );
    }

    #[test]
    fn a_separator_found_past_the_limit_is_reported_where_it_is() {
        // The caller compares the position with the limit.
        let mut line = vec![b'x'; 20];
        line.push(b'\n');
        assert_eq!(scan(&line, b"\n", 0, 100), Scan::Found(20));
    }

    #[test]
    fn the_buffer_hands_out_bytes_in_order_and_reuses_its_storage() {
        let mut buffer = ReadBuffer::default();
        buffer.extend(b"hello world");
        assert_eq!(buffer.take(6), b"hello ");
        assert_eq!(buffer.data(), b"world");
        let capacity = buffer.storage.len();
        // Room for a new read is made by moving the rest to the front.
        let spare = buffer.spare();
        spare[..1].copy_from_slice(b"!");
        buffer.commit(1);
        assert_eq!(buffer.data(), b"world!");
        assert!(buffer.storage.len() <= capacity + READ_CHUNK);
        assert_eq!(buffer.take_all(), b"world!");
        assert!(buffer.is_empty());
    }

    #[test]
    fn a_buffer_larger_than_one_read_grows_and_keeps_every_byte() {
        let mut buffer = ReadBuffer::default();
        let data: Vec<u8> = (0..3 * READ_CHUNK + 7).map(|i| i as u8).collect();
        buffer.extend(&data);
        assert_eq!(buffer.len(), data.len());
        buffer.discard(READ_CHUNK);
        assert_eq!(buffer.take_all(), &data[READ_CHUNK..]);
    }
}
