using System.Diagnostics;
using Halfway.Cli.Commands;
using Halfway.Tests.Analysis;
using Halfway.Tests.Support;

namespace Halfway.Tests.Cli;

/// <summary>
/// What `explain` reads besides a plain file: standard input as a stream (from the real tcpdump), and the inputs it
/// cannot use — a directory, a pipe closed without data, a capture without TCP — each one line and its exit code.
/// </summary>
public sealed class ExplainInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("halfway-explain-input-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static void AssertOneLine(int expectedCode, int exitCode, string stdout, string stderr, string expected)
    {
        Assert.Equal(expectedCode, exitCode);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("halfway: ", line);
        Assert.Contains(expected, line);
    }

    /// <summary>`tcpdump -r FILE -w - | halfway explain -`: the real tcpdump writes the capture to a pipe, halfway reads the pipe.</summary>
    private static (int Code, string Stdout, string Stderr) ThroughTcpdumpPipe(params string[] options)
    {
        var tcpdump = new ProcessStartInfo("tcpdump") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-r", RealCaptureTests.ExamplePath, "-w", "-" })
            tcpdump.ArgumentList.Add(argument);
        using var writer = Process.Start(tcpdump)!;
        _ = writer.StandardError.ReadToEndAsync();
        var start = HalfwayProcess.StartInfo([.. options, "-"]);
        using var reader = Process.Start(start)!;
        var stdout = reader.StandardOutput.ReadToEndAsync();
        var stderr = reader.StandardError.ReadToEndAsync();
        writer.StandardOutput.BaseStream.CopyTo(reader.StandardInput.BaseStream);
        reader.StandardInput.Close();
        Assert.True(writer.WaitForExit(TimeSpan.FromSeconds(60)), "tcpdump did not end");
        if (!reader.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            reader.Kill(entireProcessTree: true);
            throw new TimeoutException("halfway explain - did not end within 60 s");
        }
        Assert.Equal(0, writer.ExitCode);
        return (reader.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Standard_input_from_tcpdump_gives_the_same_report_as_the_file()
    {
        var fromFile = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", RealCaptureTests.ExamplePath);
        var fromPipe = ThroughTcpdumpPipe("explain");
        Assert.Equal(0, fromFile.ExitCode);
        Assert.Equal(0, fromPipe.Code);
        Assert.Contains("half-established", fromPipe.Stdout);
        Assert.Equal(fromFile.Stdout, fromPipe.Stdout);

        var jsonFromFile = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", "--json", "--all", RealCaptureTests.ExamplePath);
        var jsonFromPipe = ThroughTcpdumpPipe("explain", "--json", "--all");
        Assert.Equal(0, jsonFromPipe.Code);
        // The only difference: the input's name.
        Assert.Equal(jsonFromFile.Stdout.Replace(System.Text.Json.JsonSerializer.Serialize(RealCaptureTests.ExamplePath), "\"-\""), jsonFromPipe.Stdout);
    }

    [Fact]
    public void A_directory_is_one_line_and_exit_2()
    {
        var (code, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", _folder);
        AssertOneLine(2, code, stdout, stderr, $"{_folder}: is a directory, not a capture file");
    }

    [Fact]
    public void Standard_input_closed_without_data_is_one_line_and_exit_2()
    {
        var (code, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", "-");
        AssertOneLine(2, code, stdout, stderr, "standard input: no data: the pipe was closed before a capture header came");
    }

    [Fact]
    public async Task A_fifo_whose_writer_closes_without_data_is_one_line_and_exit_2()
    {
        string fifo = Path.Combine(_folder, "fifo");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
            Assert.True(mkfifo.WaitForExit(TimeSpan.FromSeconds(30)) && mkfifo.ExitCode == 0);
        var run = Task.Run(() => HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", fifo));
        // The writer opens the FIFO (halfway's open returns then) and closes it without writing a byte.
        using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
        {
        }
        var (code, stdout, stderr) = await run.WaitAsync(TimeSpan.FromSeconds(90));
        AssertOneLine(2, code, stdout, stderr, $"{fifo}: no data: the pipe was closed before a capture header came");
    }

    [Fact]
    public void Standard_input_given_twice_is_a_usage_error()
    {
        var (code, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", "-", "-");
        AssertOneLine(2, code, stdout, stderr, "'-' (standard input) can be given only once");
    }

    [Fact]
    public void A_capture_without_tcp_says_a_filter_may_have_left_it_out_and_exits_4()
    {
        // The real tcpdump keeps only UDP of the example (there is none): a valid capture without a TCP packet.
        string udpOnly = Path.Combine(_folder, "udp-only.pcap");
        using (var tcpdump = Process.Start(new ProcessStartInfo("tcpdump", ["-r", RealCaptureTests.ExamplePath, "-w", udpOnly, "udp"]) { RedirectStandardError = true })!)
            Assert.True(tcpdump.WaitForExit(TimeSpan.FromSeconds(30)) && tcpdump.ExitCode == 0);
        var (code, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", udpOnly);
        AssertOneLine(ExplainCommand.NoTcpExitCode, code, stdout, stderr, "no packets at all; a capture filter may have left TCP out");

        // Frames that are not TCP: the example's packets with their IP protocol changed to UDP.
        string notTcp = Path.Combine(_folder, "not-tcp.pcap");
        var bytes = File.ReadAllBytes(RealCaptureTests.ExamplePath);
        var reader = Halfway.Capture.CaptureReader.Open(RealCaptureTests.ExamplePath);
        using (reader)
        {
            while (reader.ReadNext())
            {
                long frame = reader.FrameOffset + 16; // the pcap record header comes first
                int ipStart = reader.LinkType switch { 1 => 14, 113 => 16, 276 => 20, _ => 0 };
                Assert.Equal(4, bytes[frame + ipStart] >> 4);
                bytes[frame + ipStart + 9] = 17;
            }
        }
        File.WriteAllBytes(notTcp, bytes);
        (code, stdout, stderr) = HalfwayProcess.Run(TimeSpan.FromSeconds(60), "explain", notTcp);
        AssertOneLine(ExplainCommand.NoTcpExitCode, code, stdout, stderr, "no TCP packets among its 65 frames; a capture filter may have left TCP out");
    }
}
