//! The prediction cache: an opt-in, bounded LRU map from (task, options, input bytes) to the
//! task's result, per loaded model (so it is cleared with the model). A hit returns a clone of
//! exactly what the miss computed.

use std::num::NonZeroUsize;

use lru::LruCache;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::options::CacheOptions;
use crate::serving::Outcome;
use crate::tasks::{Detection, Embedding, Prediction};

/// A cached result of one task call.
#[derive(Debug, Clone)]
pub(crate) enum Cached {
    Classify(Vec<Prediction>),
    Detect(Vec<Detection>),
    Embed(Embedding),
    /// Never stored (see the `CacheValue` of raw tensors).
    Uncacheable,
}

impl Cached {
    /// Bytes the entry holds, estimated (the key, the vectors and their strings).
    fn size(&self) -> usize {
        let label = |l: &Option<String>| l.as_ref().map_or(0, String::len);
        32 + match self {
            Cached::Classify(p) => p
                .iter()
                .map(|p| std::mem::size_of::<Prediction>() + label(&p.label))
                .sum(),
            Cached::Detect(d) => d
                .iter()
                .map(|d| std::mem::size_of::<Detection>() + label(&d.label) + d.keypoints.len() * 8)
                .sum(),
            Cached::Embed(e) => e.values.len() * 4,
            Cached::Uncacheable => usize::MAX / 2,
        }
    }
}

/// A task result that can be cached.
pub(crate) trait CacheValue: Clone + Sized {
    fn wrap(self) -> Cached;
    fn unwrap(cached: Cached) -> Option<Self>;
}

impl CacheValue for Vec<Prediction> {
    fn wrap(self) -> Cached {
        Cached::Classify(self)
    }
    fn unwrap(cached: Cached) -> Option<Self> {
        match cached {
            Cached::Classify(v) => Some(v),
            _ => None,
        }
    }
}

impl CacheValue for Vec<Detection> {
    fn wrap(self) -> Cached {
        Cached::Detect(self)
    }
    fn unwrap(cached: Cached) -> Option<Self> {
        match cached {
            Cached::Detect(v) => Some(v),
            _ => None,
        }
    }
}

impl CacheValue for Embedding {
    fn wrap(self) -> Cached {
        Cached::Embed(self)
    }
    fn unwrap(cached: Cached) -> Option<Self> {
        match cached {
            Cached::Embed(v) => Some(v),
            _ => None,
        }
    }
}

/// Raw tensors are never cached (`run`): [`CacheValue::unwrap`] never finds one.
impl CacheValue for Vec<crate::Tensor> {
    fn wrap(self) -> Cached {
        Cached::Uncacheable
    }
    fn unwrap(_: Cached) -> Option<Self> {
        None
    }
}

/// The cache key: sha256 over the task, its options as JSON, and every input part
/// (length-prefixed, so different splits of the same bytes differ).
pub(crate) fn key(task: &str, options: &impl Serialize, parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(task.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(options).unwrap_or_default());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// The bounded LRU map and its hit/miss counts.
pub(crate) struct ResultCache {
    map: LruCache<[u8; 32], (Cached, Outcome, usize)>,
    bytes: usize,
    max_bytes: usize,
    pub hits: u64,
    pub misses: u64,
}

impl ResultCache {
    pub(crate) fn new(options: &CacheOptions) -> ResultCache {
        let entries = NonZeroUsize::new(options.max_entries as usize).unwrap_or(NonZeroUsize::MIN);
        ResultCache {
            map: LruCache::new(entries),
            bytes: 0,
            max_bytes: usize::try_from(options.max_bytes).unwrap_or(usize::MAX),
            hits: 0,
            misses: 0,
        }
    }

    /// The entry of `key`, counted as a hit or a miss.
    pub(crate) fn get(&mut self, key: &[u8; 32]) -> Option<(Cached, Outcome)> {
        let found = self.map.get(key).map(|(v, o, _)| (v.clone(), *o));
        match found {
            Some(_) => self.hits += 1,
            None => self.misses += 1,
        }
        found
    }

    /// Stores `value`, evicting the least recently used entries to stay within both bounds;
    /// a value larger than `max_bytes` alone is not stored.
    pub(crate) fn put(&mut self, key: [u8; 32], value: Cached, outcome: Outcome) {
        let size = value.size();
        if size > self.max_bytes {
            return;
        }
        if let Some((_, _, old)) = self.map.pop(&key) {
            self.bytes -= old;
        }
        while self.bytes + size > self.max_bytes {
            match self.map.pop_lru() {
                Some((_, (_, _, s))) => self.bytes -= s,
                None => break,
            }
        }
        if let Some((_, (_, _, s))) = self.map.push(key, (value, outcome, size)) {
            self.bytes -= s;
        }
        self.bytes += size;
    }

    /// Entries held and their estimated bytes.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, usize) {
        (self.map.len(), self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedding(n: usize) -> Cached {
        Cached::Embed(Embedding {
            values: vec![0.5; n],
        })
    }

    #[test]
    fn bounded_by_entries_and_bytes_least_recently_used_first() {
        let mut c = ResultCache::new(&CacheOptions {
            max_entries: 2,
            max_bytes: 1000,
        });
        let k = |i: u8| key("embed", &i, &[b"x"]);
        let o = Outcome::default();
        c.put(k(1), embedding(10), o);
        c.put(k(2), embedding(10), o);
        assert!(c.get(&k(1)).is_some(), "1 is now the most recent");
        c.put(k(3), embedding(10), o);
        assert!(c.get(&k(2)).is_none(), "2 was the least recently used");
        assert_eq!((c.hits, c.misses), (1, 1));
        assert_eq!(c.usage(), (2, 2 * (32 + 40)));
        // 200 values are 832 bytes: only one such entry fits in 1000.
        c.put(k(4), embedding(200), o);
        c.put(k(5), embedding(200), o);
        assert_eq!(c.usage(), (1, 832));
        c.put(k(6), embedding(1000), o);
        assert!(
            c.get(&k(6)).is_none(),
            "larger than the whole cache: not stored"
        );
        assert_ne!(
            key("a", &1, &[b"xy", b""]),
            key("a", &1, &[b"x", b"y"]),
            "parts are length-prefixed"
        );
    }
}
