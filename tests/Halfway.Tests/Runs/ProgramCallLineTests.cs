using Halfway.Observe;
using Halfway.Runs;

namespace Halfway.Tests.Runs;

/// <summary>The halfway-call lines a client program may print to say what its calls returned (docs/programs.md).</summary>
public sealed class ProgramCallLineTests
{
    [Fact]
    public void A_call_line_gives_the_port_the_call_its_result_and_a_detail_that_may_hold_spaces()
    {
        var call = ProgramRuns.ParseCall("halfway-call port=41234 call=receive result=error errno=closed detail=gen_tcp {error,closed}");
        Assert.Equal(new ProgramRuns.LoggedCall(41234, ClientStep.Receive, CallResult.Error, "closed", "gen_tcp {error,closed}"), call);
        Assert.Equal(new ProgramRuns.LoggedCall(7, ClientStep.Connect, CallResult.Ok, null, null), ProgramRuns.ParseCall("halfway-call  call=connect port=7 result=ok"));
        Assert.Equal(ClientStep.Receive, ProgramRuns.ParseCall("halfway-call port=9 call=recv result=data")?.Step);
    }

    [Theory]
    [InlineData("halfway-call call=send result=ok")]                         // no port
    [InlineData("halfway-call port=0 call=send result=ok")]                  // not a port
    [InlineData("halfway-call port=70000 call=send result=ok")]
    [InlineData("halfway-call port=-5 call=send result=ok")]
    [InlineData("halfway-call port=80 call=bind result=ok")]                 // not a call halfway knows
    [InlineData("halfway-call port=80 call=send result=fine")]               // not a result
    [InlineData("halfway-call port=80 call=send result=ok colour=blue")]     // an unknown field
    [InlineData("halfway-call port=80 port=81 call=send result=ok")]         // a field twice
    [InlineData("halfway-call port=80 call=send result")]                    // no value
    [InlineData("connect ok port 80")]                                       // not a call line
    public void A_line_that_does_not_say_one_call_exactly_is_not_read(string line) =>
        Assert.Null(ProgramRuns.ParseCall(line));
}
