//! Keyset paging by a replication key, shared by the `mysql` and `sqlite`
//! sources: a page never ends inside a run of equal key values, so resuming
//! with `key > last` loses no row and repeats none.

/// Cuts `page` — up to `size + 1` rows in key order, each with its key, read
/// with one row too many — to at most `size` rows that do not end inside a
/// run of equal keys: at the page's end when the next row's key differs, else
/// back to the last key change. When one key fills the whole page, returns
/// that key: the caller reads the key's whole run as the page instead (the one
/// case where a page exceeds `size`).
pub(crate) fn cut_at_key_change<R, K: PartialEq + Clone>(page: &mut Vec<(R, K)>, size: usize) -> Option<K> {
    if page.len() <= size || size == 0 {
        return None;
    }
    let last = &page[size - 1].1;
    if page[size].1 != *last {
        page.truncate(size);
    } else if let Some(i) = (0..size - 1).rev().find(|&i| page[i].1 != *last) {
        page.truncate(i + 1);
    } else {
        return Some(last.clone());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::cut_at_key_change;

    fn cut(keys: &[u8], size: usize) -> (Vec<u8>, Option<u8>) {
        let mut page: Vec<((), u8)> = keys.iter().map(|&k| ((), k)).collect();
        let run = cut_at_key_change(&mut page, size);
        (page.into_iter().map(|(_, k)| k).collect(), run)
    }

    #[test]
    fn pages_end_at_a_key_change() {
        assert_eq!(cut(&[1, 2, 3], 3), (vec![1, 2, 3], None), "a short read is the last page");
        assert_eq!(cut(&[1, 2, 3, 4], 3), (vec![1, 2, 3], None));
        assert_eq!(cut(&[1, 2, 2, 2], 3), (vec![1], None), "the run of 2 moves to the next page");
        assert_eq!(cut(&[1, 1, 2, 2], 3), (vec![1, 1], None));
        assert_eq!(cut(&[5, 5, 5, 5], 3), (vec![5, 5, 5, 5], Some(5)), "one key fills the page");
        assert_eq!(cut(&[5, 5], 1), (vec![5, 5], Some(5)));
    }
}
