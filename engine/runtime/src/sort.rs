//! Sorting the engine's own lists: an object's or a collection's keys to show them in order,
//! completion candidates, a benchmark's samples. A heap sort: in place, O(n log n) at worst,
//! and a few hundred bytes of code for each element type where the standard library's sorts
//! are 5-8 KB each (the component's size, ARCHITECTURE.md "Builds"). It is not stable: every
//! caller sorts by a key that tells its elements apart. Users' sorts are metered and stable
//! and take any comparator ([`crate::budget::sort_by`]).

/// Sorts `v` so that no element is `less` than one before it. `less` must be a strict order.
pub fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    // moves the element at `root` down until the heap in `v[..end]` holds again
    let mut sift = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift(v, i, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::sort_by;

    #[test]
    fn sorts_as_the_standard_sort_does() {
        let mut seed = 7u64;
        for n in [0, 1, 2, 3, 10, 33, 1000] {
            let mut v: Vec<u64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 33) % 50
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            sort_by(&mut v, |a, b| a < b);
            assert_eq!(v, want, "n = {n}");
        }
        let mut words = vec!["pear", "apple", "fig", "apple", "kiwi"];
        sort_by(&mut words, |a, b| a > b);
        assert_eq!(words, ["pear", "kiwi", "fig", "apple", "apple"]);
    }
}
