//! Allocations grow linearly with the input: a counting global allocator (which is why this is
//! its own test binary) counts the allocations and the bytes allocated by the whole receiving
//! path (parse, profile, validation, ACK, JSON) for every shape of `telerad_tests::growth`, at
//! 1x, 2x, 4x and 8x.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use telerad_tests::growth::{assert_linear, receive, shapes, SIZES};

/// Counts per thread, so tests running in parallel do not add to each other's counts.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

fn record(size: usize) {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    let _ = BYTES.try_with(|c| c.set(c.get() + size as u64));
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What receiving `input` allocates, on a thread of its own: the runtime keeps some emptied
/// vectors per thread for the next message (the placed tree's, validation's lists), so on a
/// thread that received a larger message before, a message allocates less than its size asks,
/// and the counts would depend on the order of the inputs.
fn counted(input: &str) -> (u64, u64) {
    std::thread::scope(|s| {
        s.spawn(|| {
            let before = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
            receive(input.as_bytes());
            (ALLOCATIONS.with(Cell::get) - before.0, BYTES.with(Cell::get) - before.1)
        })
        .join()
        .unwrap_or_else(|_| panic!("receiving a message of {} bytes panicked", input.len()))
    })
}

#[test]
fn allocations_grow_linearly() {
    for (name, shape) in shapes() {
        let inputs: Vec<String> = SIZES.iter().map(|&k| shape(k)).collect();
        let counts: Vec<(usize, (u64, u64))> = inputs.iter().map(|i| (i.len(), counted(i))).collect();
        let number: Vec<(usize, u64)> = counts.iter().map(|(l, (n, _))| (*l, *n)).collect();
        let bytes: Vec<(usize, u64)> = counts.iter().map(|(l, (_, b))| (*l, *b)).collect();
        assert_linear(name, "allocations", &number);
        assert_linear(name, "bytes allocated", &bytes);
    }
}
