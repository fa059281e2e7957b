// murmur2 exactly as Kafka's org.apache.kafka.common.utils.Utils.murmur2, the
// hash of the default partitioner: seed 0x9747b28c, m 0x5bd1e995, r 24,
// little-endian 4-byte groups, the tail folded in the order 3, 2, 1.
// Kafka's partition for a keyed record is toPositive(murmur2(key)) % partitions,
// toPositive(h) = h & 0x7fffffff.

/** murmur2 of [ptr, ptr+len), as a signed i32 like Java's. */
export function murmur2(ptr: usize, len: i32): i32 {
  const m: u32 = 0x5bd1e995;
  let h: u32 = 0x9747b28c ^ <u32>len;
  const len4 = len >> 2;
  for (let i = 0; i < len4; i++) {
    let k = load<u32>(ptr + (<usize>i << 2));
    k *= m;
    k ^= k >>> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const tail = ptr + (<usize>len & ~3);
  switch (len & 3) {
    case 3: h ^= <u32>load<u8>(tail, 2) << 16;
    case 2: h ^= <u32>load<u8>(tail, 1) << 8;
    case 1: {
      h ^= <u32>load<u8>(tail);
      h *= m;
    }
  }
  h ^= h >>> 13;
  h *= m;
  h ^= h >>> 15;
  return <i32>h;
}
