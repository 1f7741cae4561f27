using Halfway.Analysis;
using Halfway.Wire;

namespace Halfway.Tests.Analysis;

/// <summary>
/// The engine's flow table and tombstone set against a plain dictionary: random inserts, lookups in both directions,
/// removals in the sweep's order (descending slots) and growth, with hashes forced to collide so that probe chains are
/// long and wrap around the table's end.
/// </summary>
public sealed class FlowTableTests
{
    private static IpEndpoint Endpoint(int i, bool v6 = false) =>
        v6 ? new IpEndpoint(0x2001_0db8_0000_0000UL, (ulong)i, (ushort)(1000 + i % 50000), true)
           : new IpEndpoint(0, 0xffffUL << 32 | (uint)(0x0a000000 + i), (ushort)(1000 + i % 50000), false);

    private static readonly IpEndpoint Server = new(0, 0xffffUL << 32 | 0x0a0000fe, 8080, false);

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public void Behaves_like_a_dictionary_through_inserts_lookups_sweeps_and_growth(int seed, bool collide)
    {
        var random = new Random(seed);
        var table = new FlowTable();
        var model = new Dictionary<int, Flow>();
        // Colliding hashes: only 64 distinct values, so chains are long and cross the table's end.
        uint HashOf(int i) => collide ? (uint)(i % 64) * 0x0400_0001u : FlowHash.Of(Endpoint(i, i % 7 == 0), Server);
        for (int round = 0; round < 40; round++)
        {
            for (int k = 0; k < 300; k++)
            {
                int i = random.Next(5000);
                var client = Endpoint(i, i % 7 == 0);
                bool reversed = random.Next(2) == 0; // a packet from the server finds the same flow
                var found = reversed ? table.Find(Server, client, HashOf(i), out int slot) : table.Find(client, Server, HashOf(i), out slot);
                Assert.Same(model.GetValueOrDefault(i), found);
                if (found is null)
                {
                    var flow = new Flow(client, Server, true, round);
                    table.Put(slot, flow, HashOf(i), long.MaxValue);
                    model[i] = flow;
                }
            }
            Assert.Equal(model.Count, table.Count);
            // A sweep: collect, then remove about a third in descending slot order.
            var open = new List<(Flow Flow, int Slot)>();
            table.CollectFlows(open);
            Assert.Equal(model.Count, open.Count);
            var remove = open.Where(_ => random.Next(3) == 0).ToList();
            for (int k = remove.Count - 1; k >= 0; k--)
            {
                table.RemoveAt(remove[k].Slot, remove[k].Flow);
                model.Remove(model.Single(e => ReferenceEquals(e.Value, remove[k].Flow)).Key);
            }
            Assert.Equal(model.Count, table.Count);
            foreach (var (i, flow) in model)
                Assert.Same(flow, table.Find(flow.Server, flow.Client, HashOf(i), out _));
        }
    }

    [Fact]
    public void A_sweep_passes_over_flows_not_yet_due_but_never_a_due_one()
    {
        var random = new Random(11);
        var table = new FlowTable();
        var dueAt = new Dictionary<Flow, long>();
        for (int i = 0; i < 3000; i++)
        {
            var client = Endpoint(i);
            uint hash = FlowHash.Of(client, Server);
            long due = random.NextInt64(-5_000_000, 20_000_000); // around unit boundaries, and before 1970 too
            var flow = new Flow(client, Server, true, 0);
            Assert.Null(table.Find(client, Server, hash, out int slot));
            table.Put(slot, flow, hash, long.MaxValue);
            table.SetDue(slot, due);
            dueAt[flow] = due;
        }
        foreach (long dueBy in new long[] { -1_048_577, -1, 0, 1_048_575, 1_048_576, 7_500_000, 19_999_999 })
        {
            var open = new List<(Flow Flow, int Slot)>();
            table.CollectFlows(open, dueBy);
            var collected = open.Select(o => o.Flow).ToHashSet();
            foreach (var (flow, due) in dueAt)
            {
                if (due <= dueBy)
                    Assert.Contains(flow, collected);
                else if (due >= dueBy + (1 << 20))
                    Assert.DoesNotContain(flow, collected); // a whole unit (~1 s) later: passed over on its slot
            }
        }
    }

    [Fact]
    public void Tombstones_are_found_in_either_direction_until_they_expire()
    {
        var set = new TombstoneSet();
        var model = new Dictionary<int, long>();
        var random = new Random(7);
        for (int round = 0; round < 30; round++)
        {
            long now = round * 1_000_000L;
            for (int k = 0; k < 2000; k++)
            {
                int i = random.Next(20000);
                long closedAt = now + random.Next(1_000_000);
                set.Add(Endpoint(i, i % 5 == 0), Server, closedAt);
                model[i] = closedAt;
            }
            long cutoff = now - 5_000_000;
            set.Expire(cutoff);
            foreach (var key in model.Where(e => e.Value < cutoff).Select(e => e.Key).ToList())
                model.Remove(key);
            foreach (var (i, closedAt) in model)
            {
                Assert.Equal(closedAt, set.ClosedAt(Server, Endpoint(i, i % 5 == 0)));
                Assert.Equal(closedAt, set.ClosedAt(Endpoint(i, i % 5 == 0), Server));
            }
            // An expired one may stay until its generation is dropped (see TombstoneSet), but only with its old time.
            for (int i = 0; i < 20000; i += 97)
                if (!model.ContainsKey(i))
                    Assert.True(set.ClosedAt(Endpoint(i, i % 5 == 0), Server) < cutoff);
            // Memory: at most two generations, each of about one expiry window (5 rounds here) and two more rounds.
            Assert.InRange(set.Count, model.Count, 2 * 7 * 2000);
        }
    }

    [Fact]
    public void Fingerprints_differ_for_different_tuples_and_agree_both_ways()
    {
        var seen = new HashSet<ulong>();
        for (int i = 0; i < 200_000; i++)
        {
            ulong f = TombstoneSet.FingerprintOf(Endpoint(i, i % 3 == 0), Server);
            Assert.Equal(f, TombstoneSet.FingerprintOf(Server, Endpoint(i, i % 3 == 0)));
            Assert.True(seen.Add(f), $"fingerprint collision at {i}");
        }
    }
}
