use std::fmt;

/// A value that differs from the one a rule requires: the one payload every crate's mismatch
/// errors carry, so messages read the same everywhere ("got X, expected Y").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GotExpected<T> {
    /// The value found.
    pub got: T,
    /// The value required.
    pub expected: T,
}

impl<T> GotExpected<T> {
    /// A mismatch of `got` against `expected`.
    pub const fn new(got: T, expected: T) -> Self {
        Self { got, expected }
    }
}

impl<T: fmt::Display> fmt::Display for GotExpected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "got {}, expected {}", self.got, self.expected)
    }
}

impl<T: fmt::Display + fmt::Debug> std::error::Error for GotExpected<T> {}
