#!/usr/bin/env escript
%% The seed's server in Erlang: gen_tcp:listen with a small backlog; ACCEPTORS processes (default 1) each accept one
%% connection every ACCEPT_EVERY_MS (0: as fast as they come; "never": the server only listens) and answer "Ping" with
%% "Pong". Logs "accepted HOST:PORT" for each accept (halfway infers accepts from the kernel; this log lets you check).
%% Usage: gen_tcp_server.escript PORT BACKLOG ACCEPT_EVERY_MS|never [ACCEPTORS]
main([Port, Backlog, Every]) -> main([Port, Backlog, Every, "1"]);
main([Port, Backlog, Every, Acceptors]) ->
    {ok, Listen} = gen_tcp:listen(list_to_integer(Port),
        [binary, {active, false}, {reuseaddr, true}, {backlog, list_to_integer(Backlog)}]),
    io:format("listening on port ~s with backlog ~s~n", [Port, Backlog]),
    case Every of
        "never" -> ok;
        _ -> [spawn(fun() -> accept_loop(Listen, list_to_integer(Every)) end) || _ <- lists:seq(1, list_to_integer(Acceptors))]
    end,
    receive stop -> ok end;
main(_) ->
    io:format(standard_error, "usage: gen_tcp_server.escript PORT BACKLOG ACCEPT_EVERY_MS|never [ACCEPTORS]~n", []),
    halt(2).

accept_loop(Listen, Every) ->
    timer:sleep(Every),
    {ok, Socket} = gen_tcp:accept(Listen),
    {ok, {Address, Port}} = inet:peername(Socket),
    io:format("accepted ~s:~b~n", [inet:ntoa(Address), Port]),
    Pid = spawn(fun() -> receive go -> serve(Socket) end end),
    ok = gen_tcp:controlling_process(Socket, Pid),
    Pid ! go,
    accept_loop(Listen, Every).

serve(Socket) ->
    case gen_tcp:recv(Socket, 0) of
        {ok, <<"Ping">>} -> gen_tcp:send(Socket, <<"Pong">>), serve(Socket);
        {ok, _} -> serve(Socket);
        {error, _} -> gen_tcp:close(Socket)
    end.
