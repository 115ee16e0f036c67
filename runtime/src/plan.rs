//! What a static definition decides, worked out once per process and kept for its life: a
//! profile's compiled rules and each rule's shown paths (`validate::rules`), a group's slice
//! tests (`typed`), a segment's base fields and a table's codes as a set (`validate::engine`).
//! Definitions are statics, so a definition's address names it for the life of the process
//! (every definition type has a size, so no two share an address), and what is worked out
//! from it can live as long.
//!
//! Each thread keeps the plans it has used in a list of its own, so that finding one takes no
//! lock and touches no shared counter (the exchange validates on every worker thread at once);
//! a plan a thread has not used yet comes from the process's map, worked out there once. A
//! thread started later finds the process's plan: nothing is worked out, or kept, per thread.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

type Kept = &'static (dyn Any + Send + Sync);

/// The plan of type `T` for the static definition `def`, made by `make` the first time any
/// thread asks for it.
pub(crate) fn of<D: ?Sized, T: Any + Send + Sync>(def: &'static D, make: impl FnOnce() -> T) -> &'static T {
    debug_assert!(std::mem::size_of_val(def) > 0, "a definition without a size has no address of its own");
    let key = (std::ptr::from_ref(def).cast::<()>() as usize, TypeId::of::<T>());
    // A map, not a list: a validation asks for a plan per segment, table and sliced group (15
    // on flow 3), and a thread holds a hundred, so a scan of the list cost 160 instructions a
    // look-up. The key is an address and a type id, never message text: a fast non-keyed
    // hash is safe.
    thread_local! {
        static SEEN: RefCell<HashMap<(usize, TypeId), Kept, rustc_hash::FxBuildHasher>> =
            const { RefCell::new(HashMap::with_hasher(rustc_hash::FxBuildHasher)) };
    }
    let seen = SEEN.with_borrow(|seen| seen.get(&key).copied());
    if let Some(plan) = seen.and_then(|p| p.downcast_ref::<T>()) {
        return plan;
    }
    static PLANS: OnceLock<Mutex<HashMap<(usize, TypeId), Kept>>> = OnceLock::new();
    let plans = PLANS.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means another thread panicked while inserting: the map is intact.
    let lock = || plans.lock().unwrap_or_else(|p| p.into_inner());
    let known = lock().get(&key).copied();
    let plan: Kept = match known.and_then(|p| p.downcast_ref::<T>()) {
        Some(plan) => plan,
        None => {
            // Made without the lock held, so that making a plan may ask for another one; two
            // threads may both make it, and the first to keep it wins.
            let made = make();
            match lock().entry(key) {
                std::collections::hash_map::Entry::Occupied(kept) => *kept.get(),
                // Leaked on purpose: one plan per definition and type, for the process's life.
                std::collections::hash_map::Entry::Vacant(slot) => *slot.insert(Box::leak(Box::new(made))),
            }
        }
    };
    SEEN.with_borrow_mut(|seen| seen.insert(key, plan));
    match plan.downcast_ref::<T>() {
        Some(plan) => plan,
        // Every entry under this key was made by this very function with a `T`.
        None => unreachable!("a plan is kept under its own type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static A: u8 = 1;
    static B: u8 = 2;

    #[test]
    fn a_plan_is_made_once_per_definition_and_type_for_every_thread() {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let make = || {
            MADE.fetch_add(1, Ordering::SeqCst);
            vec![1u32, 2, 3]
        };
        let first = of(&A, make);
        assert_eq!(first, &vec![1, 2, 3]);
        assert!(std::ptr::eq(first, of(&A, make)));
        let other_thread = std::thread::spawn(move || std::ptr::from_ref(of(&A, make)) as usize).join().unwrap();
        assert_eq!(other_thread, std::ptr::from_ref(first) as usize);
        assert_eq!(MADE.load(Ordering::SeqCst), 1);
        // Another definition, or another type for the same one, is another plan.
        assert_eq!(of(&B, || vec![9u32]), &vec![9]);
        assert_eq!(of(&A, || String::from("text")), "text");
        assert_eq!(MADE.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn making_a_plan_may_ask_for_another() {
        static C: u16 = 3;
        static D: u16 = 4;
        let outer = of(&C, || of(&D, || 40u64) + 1);
        assert_eq!((*outer, *of(&D, || 0u64)), (41, 40));
    }
}
