return Gollamas.Hosting.ProxyServer.RunAsync(null!, default).GetAwaiter().GetResult();
