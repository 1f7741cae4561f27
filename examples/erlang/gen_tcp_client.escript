#!/usr/bin/env escript
%% The seed's client in Erlang: CONNECTIONS processes at once, each gen_tcp:connect to $HALFWAY_SERVER:$HALFWAY_PORT,
%% then (the seed's experiments) wait WAIT_MS, send "Ping", gen_tcp:recv with RECV_TIMEOUT_MS; or, with WAIT_MS "none",
%% only gen_tcp:recv. WAIT_MS may be a range, "1000..5000", drawn per connection. gen_tcp's default options, as the seed.
%% Each call's result is printed as a halfway-call line (docs/programs.md), with gen_tcp's own term as its detail, so the
%% run's report shows what gen_tcp returned beside what the wire and the server saw.
%% Usage: gen_tcp_client.escript WAIT_MS|A..B|none RECV_TIMEOUT_MS [CONNECTIONS]
main([Wait, Timeout]) -> main([Wait, Timeout, "1"]);
main([Wait, Timeout, Connections]) ->
    {ok, Host} = inet:parse_address(os:getenv("HALFWAY_SERVER")),
    Port = list_to_integer(os:getenv("HALFWAY_PORT")),
    Plan = {wait_of(Wait), list_to_integer(Timeout)},
    Self = self(),
    N = list_to_integer(Connections),
    Pids = [spawn(fun() -> Self ! {done, self(), run(Host, Port, Plan)} end) || _ <- lists:seq(1, N)],
    [receive {done, Pid, _} -> ok end || Pid <- Pids],
    ok;
main(_) ->
    io:format(standard_error, "usage: gen_tcp_client.escript WAIT_MS|A..B|none RECV_TIMEOUT_MS [CONNECTIONS]~n", []),
    halt(2).

wait_of("none") -> none;
wait_of(Text) ->
    case string:split(Text, "..") of
        [Low, High] -> {range, list_to_integer(Low), list_to_integer(High)};
        [Ms] -> {range, list_to_integer(Ms), list_to_integer(Ms)}
    end.

run(Host, Port, {Wait, Timeout}) ->
    case gen_tcp:connect(Host, Port, [binary, {active, false}], 300000) of
        {ok, Socket} ->
            {ok, {_, Local}} = inet:sockname(Socket),
            call(Local, "connect", ok, ok),
            case Wait of
                none -> ok;
                {range, Low, High} ->
                    timer:sleep(Low + rand:uniform(High - Low + 1) - 1),
                    Sent = gen_tcp:send(Socket, <<"Ping">>),
                    call(Local, "send", result_of(Sent), Sent)
            end,
            Received = gen_tcp:recv(Socket, 0, Timeout),
            call(Local, "receive", result_of(Received), Received),
            gen_tcp:close(Socket);
        {error, Reason} ->
            %% No socket, so no local port to name: the wire shows this connection's SYNs.
            io:format("connect error ~p~n", [Reason])
    end.

result_of(ok) -> ok;
result_of({ok, _}) -> data;
result_of({error, timeout}) -> timeout;
result_of({error, econnreset}) -> reset;
result_of({error, _}) -> error.

call(Port, Call, Result, Term) ->
    Errno = case Term of {error, Reason} when Result =:= error -> io_lib:format(" errno=~p", [Reason]); _ -> "" end,
    %% One line per call: ~p would break a long term across lines.
    Said = re:replace(io_lib:format("~p", [Term]), "\\s*\\n\\s*", "", [global, {return, list}]),
    io:format("halfway-call port=~b call=~s result=~p~s detail=gen_tcp ~s~n", [Port, Call, Result, Errno, Said]).
