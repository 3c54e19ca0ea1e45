//! The build step's context: where it stands in the object (the text, for
//! locating raw values and offsets, and the path from the top), and the
//! conversions every type's builder shares.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::loose::Scalar;
use crate::raw::{Extra, RawJson};
use crate::scan::{Seg, locate};
use crate::{Error, Result};

/// Where the build step stands in the object: the text (for locating raw
/// values and offsets) and the path from the top.
pub(crate) struct Ctx<'a> {
    text: &'a str,
    base: usize,
    path: Vec<Seg>,
}

impl<'a> Ctx<'a> {
    /// At the top of the object that is `text`, found at byte `base` of the
    /// caller's input.
    pub(crate) fn new(text: &'a str, base: usize) -> Self {
        Self { text, base, path: Vec::new() }
    }

    pub(crate) fn enter(&mut self, seg: Seg) {
        self.path.push(seg);
    }

    pub(crate) fn enter_key(&mut self, key: &'static str) {
        self.enter(Seg::Key(key));
    }

    pub(crate) fn enter_index(&mut self, index: usize) {
        self.enter(Seg::Index(index));
    }

    pub(crate) fn leave(&mut self) {
        self.path.pop();
    }

    fn locate(&self, key: Option<&'static str>) -> Option<&'a str> {
        match key {
            None => locate(self.text, &self.path),
            Some(key) => {
                let mut path = self.path.clone();
                path.push(Seg::Key(key));
                locate(self.text, &path)
            }
        }
    }

    fn path_string(&self, key: Option<&'static str>) -> String {
        let mut out = String::from("$");
        for seg in self.path.iter().copied().chain(key.map(Seg::Key)) {
            match seg {
                Seg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// A shape error at `key` of the current object (or at the current
    /// value itself).
    pub(crate) fn shape(&self, key: Option<&'static str>, message: String) -> Error {
        let at = self
            .locate(key)
            .or_else(|| self.locate(None))
            .map_or(0, |s| s.as_ptr() as usize - self.text.as_ptr() as usize);
        Error::Shape { offset: self.base + at, path: self.path_string(key), message }
    }

    fn raw_of(&self, key: Option<&'static str>) -> Result<RawJson<'a>> {
        let text = self.locate(key).ok_or_else(|| self.shape(key, "value not found".into()))?;
        let raw: &'a RawValue = serde_json::from_str(text).map_err(|e| Error::from_json(&e, text))?;
        Ok(RawJson::borrowed(raw))
    }

    /// The raw text of the current value.
    pub(crate) fn raw_here(&self) -> Result<RawJson<'a>> {
        self.raw_of(None)
    }

    /// The raw text of `key` in the current object.
    pub(crate) fn raw_at(&self, key: &'static str) -> Result<RawJson<'a>> {
        self.raw_of(Some(key))
    }

    /// Keeps `key` as an extra key when it is present: a known key that the
    /// object's kind has no field for.
    pub(crate) fn keep_if(&self, extra: &mut Extra<'a>, key: &'static str, present: bool) {
        if present && let Ok(raw) = self.raw_at(key) {
            extra.push(Cow::Borrowed(key), raw);
        }
    }

    pub(crate) fn required<T>(&self, key: &'static str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| self.shape(None, format!("missing `{key}`")))
    }

    fn convert<T>(
        &self,
        key: &'static str,
        value: Option<Scalar<'a>>,
        expected: &str,
        f: impl FnOnce(Scalar<'a>) -> std::result::Result<T, Scalar<'a>>,
    ) -> Result<Option<T>> {
        match value {
            None | Some(Scalar::Null) => Ok(None),
            Some(v) => {
                f(v).map(Some).map_err(|v| self.shape(Some(key), format!("expected {expected}, found {}", v.what())))
            }
        }
    }

    /// An integer (or a string holding one); null is absent.
    pub(crate) fn int(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<i64>> {
        self.convert(key, value, "an integer", |v| v.as_i64().ok_or(v))
    }

    /// A uid: a non-negative integer (or a string holding one).
    pub(crate) fn uid(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<u64>> {
        self.convert(key, value, "a uid", |v| v.as_u64().ok_or(v))
    }

    /// A boolean (or 0/1).
    pub(crate) fn flag(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<bool>> {
        self.convert(key, value, "a boolean", |v| v.as_bool().ok_or(v))
    }

    /// A string.
    pub(crate) fn string(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<Cow<'a, str>>> {
        self.convert(key, value, "a string", |v| match v {
            Scalar::Str(s) => Ok(s),
            other => Err(other),
        })
    }

    /// A string or an integer written as text (ids, tokens).
    pub(crate) fn text(&self, key: &'static str, value: Option<Scalar<'a>>) -> Result<Option<Cow<'a, str>>> {
        self.convert(key, value, "a string", |v| match v {
            Scalar::Str(s) => Ok(s),
            Scalar::I64(n) => Ok(Cow::Owned(n.to_string())),
            Scalar::U64(n) => Ok(Cow::Owned(n.to_string())),
            other => Err(other),
        })
    }
}
