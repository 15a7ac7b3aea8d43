//! The application's JavaScript store as the library's [`AsyncStorage`],
//! and [`Slot`], which runs one operation at a time on a client or group.
//!
//! [`AsyncClient`](arbor_mls::AsyncClient) reads the whole store (`scan` of
//! the empty prefix) when it opens, runs the engine on that mirror, and
//! awaits `putBatch` for every batch an operation wrote, one at a time and
//! in order, before the operation's result is returned to JavaScript.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use arbor_mls::storage::{AsyncStorage, StorageFuture, WriteBatch};
use arbor_mls::{Error, Result};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// How many records a store may hand over at open: a bound on the memory
/// the mirror takes before the engine reads any of it.
pub(crate) const MAX_RECORDS: u32 = 1 << 20;

/// A JavaScript object with `scan(prefix)` and `putBatch(batch)` returning
/// promises (the `Store` interface of the TypeScript declarations).
pub(crate) struct JsStore {
    store: JsValue,
}

impl JsStore {
    /// Wraps `store`, checking that it has both methods.
    pub(crate) fn new(store: JsValue) -> std::result::Result<Self, JsValue> {
        for name in ["scan", "putBatch"] {
            if !Reflect::get(&store, &name.into())?.is_function() {
                return Err(
                    js_sys::TypeError::new(&format!("the store has no method `{name}`")).into(),
                );
            }
        }
        Ok(Self { store })
    }

    /// Calls `store[name](arg)`; a value that is not a promise counts as
    /// resolved.
    async fn call(&self, name: &str, arg: &JsValue) -> std::result::Result<JsValue, JsValue> {
        let method: Function = Reflect::get(&self.store, &name.into())?.dyn_into()?;
        let result = method.call1(&self.store, arg)?;
        JsFuture::from(Promise::resolve(&result)).await
    }
}

/// The store's refusal as the library's storage error (its action is
/// `retry` where the library can retry, `reopen` where it cannot).
fn refused(what: &str, e: &JsValue) -> Error {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    Error::Storage(format!("the JavaScript store's {what} failed: {text}"))
}

impl AsyncStorage for JsStore {
    fn scan<'a>(&'a self, prefix: &'a [u8]) -> StorageFuture<'a, Vec<(Vec<u8>, Vec<u8>)>> {
        Box::pin(async move {
            let rows = self
                .call("scan", &Uint8Array::from(prefix).into())
                .await
                .map_err(|e| refused("scan", &e))?;
            let rows: Array = rows.dyn_into().map_err(|_| {
                Error::Storage("the store's scan did not resolve to an array".into())
            })?;
            if rows.length() > MAX_RECORDS {
                return Err(Error::Storage(format!(
                    "the store holds {} records, more than the {MAX_RECORDS} a client opens",
                    rows.length()
                )));
            }
            let mut records = Vec::with_capacity(rows.length() as usize);
            for row in rows.iter() {
                let pair = Array::from(&row);
                let (Some(key), Some(value)) = (as_bytes(&pair.get(0)), as_bytes(&pair.get(1)))
                else {
                    return Err(Error::Storage(
                        "the store's scan returned a row that is not [Uint8Array, Uint8Array]"
                            .into(),
                    ));
                };
                records.push((key, value));
            }
            Ok(records)
        })
    }

    fn write(&self, batch: WriteBatch) -> StorageFuture<'_, ()> {
        Box::pin(async move {
            self.call("putBatch", &batch_to_js(&batch))
                .await
                .map(drop)
                .map_err(|e| refused("putBatch", &e))
        })
    }
}

/// `{ deletePrefixes: Uint8Array[], ops: [key, value | null][] }`.
fn batch_to_js(batch: &WriteBatch) -> JsValue {
    let prefixes: Array = batch
        .delete_prefixes
        .iter()
        .map(|p| JsValue::from(Uint8Array::from(p.as_slice())))
        .collect();
    let ops: Array = batch
        .ops
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Some(v) => JsValue::from(Uint8Array::from(v.as_slice())),
                None => JsValue::NULL,
            };
            JsValue::from(Array::of2(&Uint8Array::from(key.as_slice()), &value))
        })
        .collect();
    let object: JsValue = js_sys::Object::new().into();
    set(&object, "deletePrefixes", &prefixes);
    set(&object, "ops", &ops);
    object
}

fn as_bytes(value: &JsValue) -> Option<Vec<u8>> {
    value.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

/// The future of one operation on a slot's value.
pub(crate) type OpFuture<'a> = Pin<Box<dyn Future<Output = Result<JsValue>> + 'a>>;

/// A client or group, lent to one operation at a time. JavaScript may call
/// a method again before the previous promise settled: each call waits for
/// the ones before it on the same object, so operations run in call order.
pub(crate) struct Slot<T> {
    value: Rc<RefCell<Option<T>>>,
    /// Settles when the last operation started so far is done.
    tail: RefCell<Promise>,
}

impl<T: 'static> Slot<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            value: Rc::new(RefCell::new(Some(value))),
            tail: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)),
        }
    }

    /// Runs `op` on the value after the operations called before it, and
    /// resolves to its result (rejects with an `MlsError`).
    pub(crate) fn run(
        &self,
        op: impl for<'a> FnOnce(&'a mut T) -> OpFuture<'a> + 'static,
    ) -> Promise {
        let previous = self.tail.borrow().clone();
        let value = self.value.clone();
        let promise = wasm_bindgen_futures::future_to_promise(async move {
            // Its outcome went to its own caller.
            let _ = JsFuture::from(previous).await;
            let mut current = value.borrow_mut().take().ok_or_else(busy)?;
            let result = op(&mut current).await;
            *value.borrow_mut() = Some(current);
            result.map_err(|e| crate::convert::error(&e))
        });
        *self.tail.borrow_mut() = promise.clone();
        promise
    }

    /// Reads the value now (getters); fails while an operation holds it.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> std::result::Result<R, JsValue> {
        self.value.borrow().as_ref().map(f).ok_or_else(busy)
    }
}

fn busy() -> JsValue {
    js_error("an operation on this object is in progress: await it before reading")
}

/// A JavaScript `Error` with `message`.
pub(crate) fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// `object[key] = value`; setting a property of a fresh object cannot fail.
pub(crate) fn set(object: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}
