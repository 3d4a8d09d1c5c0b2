console.log("edgechat");
