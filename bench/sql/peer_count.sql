-- Rows the peer has landed.
SELECT count() FROM bench_peer.tagged
