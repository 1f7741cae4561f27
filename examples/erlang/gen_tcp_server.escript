#!/usr/bin/env escript
%% The seed's server in Erlang: gen_tcp:listen with a small backlog, one acceptor that accepts slowly, answers
%% "Ping" with "Pong". Logs "accepted HOST:PORT" for each accept (halfway infers accepts from the kernel; this log lets you check).
%% Usage: gen_tcp_server.escript PORT BACKLOG ACCEPT_EVERY_MS
main([Port, Backlog, Every]) ->
    {ok, Listen} = gen_tcp:listen(list_to_integer(Port),
        [binary, {active, false}, {reuseaddr, true}, {backlog, list_to_integer(Backlog)}]),
    io:format("listening on port ~s with backlog ~s~n", [Port, Backlog]),
    accept_loop(Listen, list_to_integer(Every));
main(_) ->
    io:format(standard_error, "usage: gen_tcp_server.escript PORT BACKLOG ACCEPT_EVERY_MS~n", []),
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
