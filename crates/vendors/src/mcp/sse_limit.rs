//! A size cap for server-sent events read by the legacy SSE transport.
//!
//! `sse-stream` buffers an event until its terminating blank line, however long that
//! takes, so a server could grow our memory without bound with one endless event. This
//! wrapper counts the bytes of the event being received and fails the stream as soon as
//! it passes the cap, before the parser buffers more.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;

/// An event grew past the configured size.
#[derive(Debug, thiserror::Error)]
#[error("an event exceeded the size limit of {limit} bytes")]
pub(super) struct EventTooLarge {
    limit: usize,
}

/// Why the limited body stopped.
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    /// The current event passed the cap.
    #[error("{0}")]
    TooLarge(#[source] EventTooLarge),
    /// Reading the response failed.
    #[error("reading the event stream failed")]
    Read(#[source] reqwest::Error),
}

/// Wraps a response body; yields its chunks until one event exceeds `limit` bytes, then
/// one [`BodyError::TooLarge`] and the end.
pub(super) fn limit_events(
    body: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
    limit: usize,
) -> LimitedBody {
    LimitedBody {
        inner: Box::pin(body),
        counter: EventCounter::new(limit),
        done: false,
    }
}

/// See [`limit_events`].
pub(super) struct LimitedBody {
    inner: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    counter: EventCounter,
    done: bool,
}

impl Stream for LimitedBody {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let item = std::task::ready!(self.inner.as_mut().poll_next(cx));
        Poll::Ready(match item {
            Some(Ok(chunk)) => match self.counter.observe(&chunk) {
                Ok(()) => Some(Ok(chunk)),
                Err(too_large) => {
                    self.done = true;
                    Some(Err(BodyError::TooLarge(too_large)))
                }
            },
            Some(Err(error)) => {
                self.done = true;
                Some(Err(BodyError::Read(error)))
            }
            None => None,
        })
    }
}

/// Bytes of the current event; an event ends at a blank line (CR, LF or CRLF endings).
#[derive(Debug)]
struct EventCounter {
    limit: usize,
    event_bytes: usize,
    /// No byte but line endings since the last line ending.
    at_line_start: bool,
    /// The last byte was CR, so an LF right after it belongs to the same line ending.
    after_cr: bool,
}

impl EventCounter {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            event_bytes: 0,
            at_line_start: true,
            after_cr: false,
        }
    }

    fn observe(&mut self, chunk: &[u8]) -> Result<(), EventTooLarge> {
        for &byte in chunk {
            let after_cr = std::mem::replace(&mut self.after_cr, false);
            match byte {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    if self.at_line_start {
                        // A blank line: the event is complete and the parser lets it go.
                        self.event_bytes = 0;
                    } else {
                        // The parser keeps one newline per line (it joins data lines).
                        self.event_bytes = self.event_bytes.saturating_add(1);
                    }
                    self.at_line_start = true;
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    self.at_line_start = false;
                    self.event_bytes = self.event_bytes.saturating_add(1);
                }
            }
            if self.event_bytes > self.limit {
                return Err(EventTooLarge { limit: self.limit });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(limit: usize, chunks: &[&str]) -> Result<(), EventTooLarge> {
        let mut counter = EventCounter::new(limit);
        chunks
            .iter()
            .try_for_each(|chunk| counter.observe(chunk.as_bytes()))
    }

    #[test]
    fn events_under_the_limit_pass_whatever_the_line_endings() {
        assert!(feed(13, &["data: 123456\n\n", "data: 123456\r\n\r\n"]).is_ok());
        assert!(feed(13, &["data: 12", "3456\r\r", "data: 123456\n\n"]).is_ok());
    }

    #[test]
    fn an_event_over_the_limit_fails_even_split_across_chunks() {
        assert!(feed(12, &["data: 1234567\n\n"]).is_err());
        assert!(feed(12, &["data: 12", "34", "567"]).is_err());
    }

    #[test]
    fn a_single_line_ending_does_not_end_the_event() {
        // "event: x\n" (9 bytes) then "data: 1234\n" (11): one event of 20 bytes.
        assert!(feed(12, &["event: x\n", "data: 1234\n"]).is_err());
        assert!(feed(12, &["event: x\r\n", "\r\n", "data: 1234\n\n"]).is_ok());
    }
}
