using Halfway.Analysis;
using Halfway.Tests.Capture;

namespace Halfway.Tests.Analysis;

/// <summary>Flows that share slabs keep their own events: through the move from a small to a large segment, to an array of their own, and when a segment left behind is reused.</summary>
public sealed class EventSlabsTests
{
    private static Flow NewFlow(EventSlabs slabs, ushort port) =>
        new(CaptureBytes.V4("10.0.0.2", port), CaptureBytes.V4("10.0.0.1", 8080), true, 0, slabs);

    private static void AssertEvents(Flow flow, int count, long tag)
    {
        var events = flow.Events.ToArray();
        Assert.Equal(count, events.Length);
        for (int i = 0; i < count; i++)
            Assert.Equal(new ConnectionEvent(ConnectionEventKind.ClientData, tag + i, tag * 2 + i), events[i]);
    }

    [Fact]
    public void Interleaved_flows_keep_their_events_through_every_move()
    {
        var slabs = new EventSlabs();
        var flows = Enumerable.Range(0, 5).Select(i => NewFlow(slabs, (ushort)(40000 + i))).ToArray();
        int[] counts = [3, EventSlabs.SmallSegment, EventSlabs.SmallSegment + 1, EventSlabs.LargeSegment + 1, 60];
        for (int step = 0; step < counts.Max(); step++)
            for (int f = 0; f < flows.Length; f++)
                if (step < counts[f])
                    flows[f].Add(ConnectionEventKind.ClientData, f * 1000 + step, f * 2000 + step);
        // New flows take the small segments the growing ones left behind: writing them must not touch anyone else's events.
        var late = Enumerable.Range(0, 4).Select(i => NewFlow(slabs, (ushort)(41000 + i))).ToArray();
        for (int f = 0; f < late.Length; f++)
            for (int step = 0; step < EventSlabs.SmallSegment; step++)
                late[f].Add(ConnectionEventKind.ClientData, (10 + f) * 1000 + step, (10 + f) * 2000 + step);
        for (int f = 0; f < flows.Length; f++)
            AssertEvents(flows[f], counts[f], f * 1000);
        for (int f = 0; f < late.Length; f++)
            AssertEvents(late[f], EventSlabs.SmallSegment, (10 + f) * 1000);
    }

    [Fact]
    public void A_recycled_flow_starts_empty_and_keeps_its_storage()
    {
        var slabs = new EventSlabs();
        var flow = NewFlow(slabs, 40000);
        for (int i = 0; i < 12; i++)
            flow.Add(ConnectionEventKind.ClientData, i, i);
        flow.Reinitialize(CaptureBytes.V4("10.0.0.3", 40001), CaptureBytes.V4("10.0.0.1", 8080), true, 0);
        Assert.Equal(0, flow.Events.Length);
        for (int i = 0; i < 14; i++)
            flow.Add(ConnectionEventKind.ClientData, 7000 + i, 14000 + i);
        AssertEvents(flow, 14, 7000);
    }
}
