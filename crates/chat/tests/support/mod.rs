//! A store that keeps nothing in shared memory: every argument and every
//! answer of [`MemoryStore`] goes through JSON bytes on the way, as it
//! would to a database in another process. The simulation tests run every
//! rule over it as well as over [`MemoryStore`].

use std::collections::BTreeMap;
use std::sync::Arc;

use fbcomet_chat::{
    ChatEvent, ChatMessage, Counter, Failures, LogRead, Login, MemoryStore, Presence, Seen, Store, ThreadSummary,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value`, written to bytes and read back.
fn rt<T: Serialize + DeserializeOwned>(value: T) -> T {
    let bytes = serde_json::to_vec(&value).expect("a store record serializes");
    serde_json::from_slice(&bytes).expect("a store record deserializes")
}

fn s(value: &str) -> String {
    rt(value.to_owned())
}

/// [`MemoryStore`] behind a wall of bytes.
#[derive(Debug, Default)]
pub(crate) struct BytesStore(MemoryStore);

impl Store for BytesStore {
    fn append(&mut self, uid: u64, event: ChatEvent, window: usize) -> i64 {
        let (uid, event, window) = rt((uid, event, window));
        rt(self.0.append(uid, event, window))
    }
    fn read_log(&self, uid: u64, from: i64, max: usize) -> LogRead {
        let (uid, from, max) = rt((uid, from, max));
        rt(self.0.read_log(uid, from, max))
    }
    fn insert_sent_id(&mut self, uid: u64, id: &str, memory: usize) -> bool {
        rt(self.0.insert_sent_id(rt(uid), &s(id), rt(memory)))
    }
    fn put_login(&mut self, token: &str, login: Login) {
        self.0.put_login(&s(token), rt(login))
    }
    fn login(&self, token: &str) -> Option<Login> {
        rt(self.0.login(&s(token)))
    }
    fn touch_login(&mut self, token: &str, now_ms: i64) -> Option<Login> {
        rt(self.0.touch_login(&s(token), rt(now_ms)))
    }
    fn remove_login(&mut self, token: &str) -> Option<Login> {
        rt(self.0.remove_login(&s(token)))
    }
    fn logins_of(&self, uid: u64) -> Vec<(String, Login)> {
        rt(self.0.logins_of(rt(uid)))
    }
    fn logins_unused_since(&self, before_ms: i64) -> Vec<String> {
        rt(self.0.logins_unused_since(rt(before_ms)))
    }
    fn presence(&self, uid: u64) -> Presence {
        rt(self.0.presence(rt(uid)))
    }
    fn set_seen(&mut self, uid: u64, now_ms: i64) {
        self.0.set_seen(rt(uid), rt(now_ms))
    }
    fn set_active(&mut self, uid: u64, now_ms: i64) {
        self.0.set_active(rt(uid), rt(now_ms))
    }
    fn set_hidden(&mut self, uid: u64, hidden: bool) {
        self.0.set_hidden(rt(uid), rt(hidden))
    }
    fn clear_presence(&mut self, uid: u64) {
        self.0.clear_presence(rt(uid))
    }
    fn put_lease(&mut self, uid: u64, holder: &str, until_ms: i64) {
        self.0.put_lease(rt(uid), &s(holder), rt(until_ms))
    }
    fn drop_lease(&mut self, uid: u64, holder: &str) {
        self.0.drop_lease(rt(uid), &s(holder))
    }
    fn leased(&self, uid: u64, now_ms: i64) -> bool {
        rt(self.0.leased(rt(uid), rt(now_ms)))
    }
    fn swap_buddy_list(&mut self, uid: u64, online: BTreeMap<u64, Seen>) -> Option<BTreeMap<u64, Seen>> {
        rt(self.0.swap_buddy_list(rt(uid), rt(online)))
    }
    fn set_sticky(&mut self, uid: u64, sticky: &str, start: i64) {
        self.0.set_sticky(rt(uid), &s(sticky), rt(start))
    }
    fn sticky(&self, uid: u64) -> Option<String> {
        rt(self.0.sticky(rt(uid)))
    }
    fn take_sticky_start(&mut self, uid: u64) -> Option<i64> {
        rt(self.0.take_sticky_start(rt(uid)))
    }
    fn append_message(&mut self, pair: (u64, u64), message: Arc<ChatMessage>, keep: usize) {
        self.0.append_message(rt(pair), rt(message), rt(keep))
    }
    fn history(&self, pair: (u64, u64), newest: usize) -> Vec<Arc<ChatMessage>> {
        rt(self.0.history(rt(pair), rt(newest)))
    }
    fn thread(&self, pair: (u64, u64), partner: u64, read_up_to_ms: i64) -> Option<ThreadSummary> {
        rt(self.0.thread(rt(pair), rt(partner), rt(read_up_to_ms)))
    }
    fn has_message_from(&self, pair: (u64, u64), from: u64) -> bool {
        rt(self.0.has_message_from(rt(pair), rt(from)))
    }
    fn advance_read_mark(&mut self, reader: u64, partner: u64, watermark_ms: i64) -> bool {
        rt(self.0.advance_read_mark(rt(reader), rt(partner), rt(watermark_ms)))
    }
    fn read_mark(&self, reader: u64, partner: u64) -> Option<i64> {
        rt(self.0.read_mark(rt(reader), rt(partner)))
    }
    fn failures(&self, key: &str) -> Option<Failures> {
        rt(self.0.failures(&s(key)))
    }
    fn record_failure(&mut self, key: &str, now_ms: i64, forget_ms: i64) -> Failures {
        rt(self.0.record_failure(&s(key), rt(now_ms), rt(forget_ms)))
    }
    fn clear_failures(&mut self, key: &str) {
        self.0.clear_failures(&s(key))
    }
    fn cursor(&self, name: &str) -> Option<i64> {
        rt(self.0.cursor(&s(name)))
    }
    fn set_cursor(&mut self, name: &str, seq: i64) {
        self.0.set_cursor(&s(name), rt(seq))
    }
    fn count(&mut self, counter: Counter, n: u64) {
        self.0.count(rt(counter), rt(n))
    }
    fn counter(&self, counter: Counter) -> u64 {
        rt(self.0.counter(rt(counter)))
    }
}
