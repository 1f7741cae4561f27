using Halfway.Analysis;

namespace Halfway.Tests.Analysis;

/// <summary>The explanations cite the evidence with its times; the diagrams keep every word of every cell.</summary>
public sealed class ExplainerTests
{
    private static readonly AnalysisContext Context = new() { AcceptQueueLimit = 2 };

    [Fact]
    public void Reset_on_data_names_the_resends_and_the_rst()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.004).SynAck(1.0001).Ack(1.004).SynAck(3.0001).Ack(3.004).Data(100, 5).BareRst(100.0002);
        var report = Assert.Single(c.Analyze());
        Assert.Equal(Fate.ResetOnData, report.Fate);
        var lines = FateExplainer.ExplainFate(Fate.ResetOnData, [report], Context);
        string text = string.Join("\n", lines);
        Assert.Contains("+1.000 s, +3.000 s although the client's ACK came at +0.004 s", text);
        Assert.Contains("the accept queue (limit 2) was full", text);
        Assert.Contains("bare RST at +100.000 s", text);
        Assert.Contains("ECONNRESET", text);
        // Counters are the scenario's, printed once beside its fates, not in every fate's paragraph.
        Assert.DoesNotContain("Counters:", text);
    }

    [Fact]
    public void Sequence_diagram_widens_its_columns_instead_of_cutting_a_cell()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.004).SynAck(1.0001).Ack(1.004).Data(2, 5).BareRst(2.0002);
        var report = Assert.Single(c.Analyze());
        // A wire narrower than "SYN-ACK (re-sent)" and "RST (seq=ISN+1)": the diagram must widen it, not cut them.
        var diagram = SequenceDiagram.Render(report, wireWidth: 10);
        Assert.DoesNotContain("~", diagram);
        foreach (var entry in report.Timeline)
            Assert.Contains(entry.Text, diagram);
    }

    [Fact]
    public void Sequence_diagram_has_one_line_per_timeline_entry_and_arrows_both_ways()
    {
        var c = new Conversation().Syn(0).SynAck(0.0001).Ack(0.004).SynAck(1.0001).Ack(1.004).Data(2, 5).ServerAck(2.0001);
        var report = Assert.Single(c.Analyze());
        var diagram = SequenceDiagram.Render(report);
        var lines = diagram.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(report.Timeline.Count + 1, lines.Length); // + the header
        Assert.Contains(lines, l => l.Contains("SYN-ACK (re-sent)") && l.Contains("<--"));
        Assert.Contains(lines, l => l.Contains("data 5 B") && l.Contains("-->"));
        Assert.StartsWith("+1.000 s", lines.Single(l => l.Contains("re-sent")).TrimStart());
    }

    [Fact]
    public void Every_fate_has_a_name_and_a_meaning()
    {
        foreach (var fate in Enum.GetValues<Fate>())
        {
            var name = FateNames.Name(fate);
            Assert.Matches("^[a-z]+(-[a-z]+)*$", name);
            Assert.True(FateNames.TryParse(name, out var parsed) && parsed == fate, name);
            Assert.False(string.IsNullOrWhiteSpace(FateNames.Meaning(fate)));
        }
    }
}
