use super::*;

#[test]
fn ranges_merge_and_the_limit_holds() {
    let mut r = ReceivedGenerations::default();
    for g in [5, 3, 4, 0, 9, 1] {
        r.record(0, 2, g);
    }
    r.record(0, 2, 4); // a repeat changes nothing
    assert_eq!(r.ranges[&2], vec![(0, 1), (3, 5), (9, 9)]);
    assert_eq!(r.count, 3);
    r.record(0, 2, 2); // joins two ranges
    assert_eq!(r.ranges[&2], vec![(0, 5), (9, 9)]);
    assert_eq!(r.count, 2);
    r.record(0, 2, u32::MAX);
    assert_eq!(r.ranges[&2].last(), Some(&(u32::MAX, u32::MAX)));
    // A later epoch starts over; an earlier one is ignored.
    r.record(1, 7, 0);
    r.record(0, 2, 6);
    assert_eq!(r.ranges.len(), 1);
    assert_eq!(r.ranges[&7], vec![(0, 0)]);

    // At the limit, a new range is not recorded; extending one still is.
    let mut r = ReceivedGenerations::default();
    for i in 0..MAX_ACK_RANGES as u32 {
        r.record(0, 0, 2 * i);
    }
    assert!(!r.overflowed);
    r.record(0, 1, 0);
    assert!(r.overflowed);
    assert!(!r.ranges.contains_key(&1) || r.ranges[&1].is_empty());
    r.record(0, 0, 1);
    assert_eq!(r.ranges[&0][0], (0, 2));
    assert_eq!(r.count, MAX_ACK_RANGES - 1);

    assert_eq!(
        subtract(&[(0, 9)], &[(2, 3), (5, 5)]),
        vec![(0, 1), (4, 4), (6, 9)]
    );
    assert_eq!(subtract(&[(0, 3)], &[(0, 3)]), vec![]);
    assert_eq!(union(&[&[(0, 1)], &[(2, 4), (8, 9)]]), vec![(0, 4), (8, 9)]);
}
